import ArgumentParser
import Foundation
import Logging

/// Where the first workspace's API key goes on a new install: to the terminal when stdout is
/// one, and otherwise (a service manager, a container's log collector) to a file readable by
/// the service's user only, whose path is logged. A key never lands in a log stream.
enum FirstKeyOutput {
    static let fileName = "first-api-key.txt"

    static func show(workspaceID: String, key: String, directory: String, logger: Logger) throws {
        let text = """
            Created the first workspace and its API key. The key is shown only this once: store it now.
              workspace_id: \(workspaceID)
              api_key:      \(key)

            """
        if isatty(STDOUT_FILENO) == 1 {
            print(text, terminator: "")
            fflush(nil)
            return
        }
        let path = (directory as NSString).appendingPathComponent(fileName)
        try? FileManager.default.removeItem(atPath: path)
        guard
            FileManager.default.createFile(
                atPath: path,
                contents: Data(text.utf8),
                attributes: [.posixPermissions: 0o600]
            )
        else { throw ValidationError("cannot write the first API key to \(path)") }
        logger.notice(
            "Created the first workspace; its API key is in a file readable only by this user: read it, store the key, delete the file",
            metadata: ["workspace_id": "\(workspaceID)", "path": "\(path)"]
        )
    }
}
