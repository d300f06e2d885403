import CofferAPI
import CofferTestSupport
import Foundation
import Testing

@testable import CofferServer

@Suite("change announcements: the wire form and the database payload")
struct ChangeFeedTests {
    @Test("the change stream is an event stream no proxy buffers, for signed-in devices only")
    func streamHead() async throws {
        let server = try ServerProcess()
        let account = try await TestAccount.register(on: server)
        func head(_ authorization: String) throws -> String {
            try #require(
                try RawConnection(to: server.url).exchange(
                    "GET /api/v2/changes HTTP/1.1\r\nHost: localhost\r\n\(authorization)\r\n"))
        }
        let open = try head("Authorization: Bearer \(account.session.accessToken)\r\n").lowercased()
        #expect(open.hasPrefix("http/1.1 200"), "\(open)")
        #expect(open.contains("content-type: text/event-stream"), "\(open)")
        #expect(open.contains("x-accel-buffering: no"), "\(open)")
        #expect(try head("").hasPrefix("HTTP/1.1 401"))
    }

    @Test("an event written by the server is read back; anything else is no announcement")
    func wireForm() {
        for sequence: Int64 in [0, 1, 42, 999_999_999_999_999_999] {
            let lines = ChangeAnnouncement.event(sequence: sequence).split(separator: "\n")
            #expect(lines.compactMap { ChangeAnnouncement.sequence(fromLine: Array($0.utf8)) } == [sequence])
        }
        let hostile = [
            "data: {\"sequence\":-5}", "data: {\"sequence\":}", "data: {\"sequence\":1234567890123456789012}",
            "event: changed", ": keep-alive", "data: {\"other\":5}", "", "data: \u{0}\u{FFFF}",
        ]
        for line in hostile { #expect(ChangeAnnouncement.sequence(fromLine: Array(line.utf8)) == nil, "\(line)") }
    }

    @Test("the database payload round-trips; foreign payloads are ignored")
    func payload() {
        let account = UUID()
        #expect(ChangeFeed.parse(ChangeFeed.payload(accountID: account, sequence: 7))! == (account, 7))
        for foreign in ["", "x 1", "\(account.uuidString) -1", "\(account.uuidString)", "\(account.uuidString) 1 2"] {
            #expect(ChangeFeed.parse(foreign) == nil)
        }
    }

    @Test("listeners hear their own account only, and leave when they stop")
    func fanOut() async {
        let feed = ChangeFeed()
        let (mine, theirs) = (UUID(), UUID())
        let (stream, stop) = feed.subscribe(accountID: mine)
        feed.deliver(accountID: theirs, sequence: 3)
        feed.deliver(accountID: mine, sequence: 4)
        var iterator = stream.makeAsyncIterator()
        #expect(await iterator.next() == 4)
        #expect(feed.listenerCount == 1)
        stop()
        #expect(feed.listenerCount == 0)
    }
}
