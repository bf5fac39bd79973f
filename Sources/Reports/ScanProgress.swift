import Foundation
import Synchronization

/// A one-line progress display on stderr: layers done and bytes read of the total.
public final class ScanProgress: Sendable {
    private struct State {
        var layers = 0, layersDone = 0
        var total: Int64 = 0, done: Int64 = 0
        var running = false
    }

    private let state = Mutex(State())
    private let label: String

    public init(label: String) { self.label = label }

    /// Starts drawing: `layers` to read, `bytes` of blobs in all.
    public func begin(layers: Int, bytes: Int64) {
        state.withLock {
            $0.layers = layers
            $0.total = bytes
            $0.running = true
        }
        // The drawing thread holds only a weak reference: it ends with `end()` or with the scan.
        Thread { [weak self] in
            while let s = self, s.isRunning {
                s.draw()
                Thread.sleep(forTimeInterval: 0.2)
            }
        }.start()
    }

    private var isRunning: Bool { state.withLock { $0.running } }

    /// Counts `n` more blob bytes read.
    public func add(_ n: Int) {
        state.withLock { $0.done += Int64(n) }
    }

    /// Counts one more layer read to its end.
    public func layerDone() {
        state.withLock { $0.layersDone += 1 }
    }

    private func draw() {
        let line = state.withLock { s in
            "\(label): \(s.layersDone)/\(s.layers) layers  \(byteCount(min(s.done, s.total))) / \(byteCount(s.total))"
        }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

    /// Stops drawing and clears the line.
    public func end() {
        state.withLock { $0.running = false }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
