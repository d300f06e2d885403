import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A one-line progress display on standard error, drawn only when standard error is a terminal
/// (scripts and logs see nothing). A phase with a known size shows a bar; one without shows the
/// seconds spent, redrawn by a ticker thread until `finish()`.
final class ProgressBar: Sendable {
    private struct State {
        var label = ""
        var fraction: Double?
        /// Shown after the bar: counts, a rate, time left.
        var detail = ""
        var started = Date()
        var isFinished = false
        var lastDrawn = ""
    }

    private let state = Mutex(State())
    private let isShown: Bool

    /// Starts a display; nothing is drawn unless standard error is a terminal and `isWanted`.
    init(isWanted: Bool) {
        isShown = isWanted && isatty(2) == 1
        guard isShown else { return }
        let ticker = Thread { [weak self] in
            while let self, self.tick() { Thread.sleep(forTimeInterval: 0.25) }
        }
        ticker.start()
    }

    /// Begins a phase: a bar when `hasSize`, else elapsed seconds.
    func phase(_ label: String, hasSize: Bool) {
        state.withLock {
            $0.label = label
            $0.fraction = hasSize ? 0 : nil
            $0.detail = ""
            $0.started = Date()
        }
        draw()
    }

    /// Moves the bar of the current phase, with `detail` after it.
    func update(_ fraction: Double, detail: String = "") {
        state.withLock {
            $0.fraction = min(max(fraction, 0), 1)
            $0.detail = detail
        }
        draw()
    }

    /// Clears the line once; later output starts on a clean line.
    func finish() {
        guard isShown else { return }
        let wasDrawn = state.withLock { state in
            let wasDrawn = !state.isFinished && !state.lastDrawn.isEmpty
            state.isFinished = true
            return wasDrawn
        }
        if wasDrawn { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }

    private func tick() -> Bool {
        draw()
        return !state.withLock { $0.isFinished }
    }

    private func draw() {
        guard isShown else { return }
        let line: String? = state.withLock {
            guard !$0.isFinished, !$0.label.isEmpty else { return nil }
            let text: String
            if let fraction = $0.fraction {
                let width = 30
                let filled = Int(fraction * Double(width))
                text =
                    "\($0.label) [\(String(repeating: "#", count: filled))\(String(repeating: "-", count: width - filled))] \(Int(fraction * 100))%\($0.detail.isEmpty ? "" : " " + $0.detail)"
            } else {
                text = "\($0.label) \(Int(Date().timeIntervalSince($0.started)))s"
            }
            guard text != $0.lastDrawn else { return nil }
            $0.lastDrawn = text
            return text
        }
        if let line { FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8)) }
    }
}
