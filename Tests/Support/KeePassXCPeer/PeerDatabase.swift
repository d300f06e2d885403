public import Foundation

extension KeePassXC {
    /// The password of every database the tests make with keepassxc-cli.
    public static let password = "correct horse battery staple"

    /// KeePass XML for `keepassxc-cli import`: a nested group, tags, custom and protected strings, a
    /// TOTP, an attachment, history and KDBX 4-only custom data (which makes KeePassXC write KDBX 4).
    public static let peerXML = """
        <?xml version="1.0" encoding="utf-8" standalone="yes"?>
        <KeePassFile>
         <Meta><DatabaseName>Peer</DatabaseName>
          <Binaries><Binary ID="0">aGVsbG8gYXR0YWNobWVudA==</Binary></Binaries>
         </Meta>
         <Root><Group><UUID>AAAAAAAAAAAAAAAAAAAAAA==</UUID><Name>Root</Name>
          <Group><UUID>AAAAAAAAAAAAAAAAAAAAAQ==</UUID><Name>Email</Name>
           <Entry><UUID>AAAAAAAAAAAAAAAAAAAAAg==</UUID><Tags>work;important</Tags>
            <Times><CreationTime>2024-01-02T03:04:05Z</CreationTime>
             <LastModificationTime>2024-02-03T04:05:06Z</LastModificationTime></Times>
            <String><Key>Title</Key><Value>Gmail</Value></String>
            <String><Key>UserName</Key><Value>alice@example.com</Value></String>
            <String><Key>Password</Key><Value ProtectInMemory="True">new-sécret-🔑</Value></String>
            <String><Key>URL</Key><Value>https://mail.google.com</Value></String>
            <String><Key>Notes</Key><Value>two
        lines &amp; "quotes"</Value></String>
            <String><Key>otp</Key><Value>otpauth://totp/Gmail:alice?secret=JBSWY3DPEHPK3PXP&amp;period=30&amp;digits=6</Value></String>
            <String><Key>Recovery email</Key><Value>bob@example.com</Value></String>
            <String><Key>PIN</Key><Value ProtectInMemory="True">1234</Value></String>
            <Binary><Key>note.txt</Key><Value Ref="0"/></Binary>
            <CustomData><Item><Key>coffer-test</Key><Value>kdbx4</Value></Item></CustomData>
            <History>
             <Entry><UUID>AAAAAAAAAAAAAAAAAAAAAg==</UUID>
              <Times><CreationTime>2024-01-02T03:04:05Z</CreationTime>
               <LastModificationTime>2024-01-10T00:00:00Z</LastModificationTime></Times>
              <String><Key>Title</Key><Value>Gmail</Value></String>
              <String><Key>Password</Key><Value ProtectInMemory="True">old-secret</Value></String>
             </Entry>
            </History>
           </Entry>
          </Group>
          <Entry><UUID>AAAAAAAAAAAAAAAAAAAAAw==</UUID>
           <String><Key>Title</Key><Value>Wi-Fi at home</Value></String>
           <String><Key>Password</Key><Value ProtectInMemory="True">router-pass</Value></String>
          </Entry>
         </Group></Root>
        </KeePassFile>
        """

    /// Makes a KDBX 4 database with keepassxc-cli from `peerXML`, optionally with a new key file.
    public static func peerDatabase(in folder: ScratchFolder, keyFile: String? = nil) throws -> String {
        let xml = folder.path("peer.xml")
        try Data(peerXML.utf8).write(to: URL(fileURLWithPath: xml))
        let database = folder.path("peer.kdbx")
        var arguments = ["import", "-q", "-p"]
        if let keyFile { arguments += ["--set-key-file", keyFile] }
        try KeePassXC().run(arguments + [xml, database], input: [password, password])
        return database
    }
}
