/// Small server-rendered SVG bar charts: no script, no style attribute (the page's CSP allows
/// neither inline), presentation attributes only. Labels are escaped here, since the template
/// inserts the SVG as markup.
enum Chart {
    static func bars(_ values: [(label: String, value: Int)], label: String) -> String {
        let rowHeight = 22
        let width = 420
        let labelWidth = 150
        let barSpace = width - labelWidth - 70
        let maximum = max(values.map(\.value).max() ?? 0, 1)
        let height = max(values.count, 1) * rowHeight + 4
        var svg =
            "<svg role=\"img\" aria-label=\"\(HTML.escape(label))\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">"
        svg += "<title>\(HTML.escape(label))</title>"
        if values.isEmpty {
            svg += "<text x=\"0\" y=\"16\" font-size=\"13\" fill=\"#5b6473\">No connections yet</text>"
        }
        for (index, entry) in values.enumerated() {
            let y = index * rowHeight + 2
            let length = entry.value == 0 ? 0 : max(2, entry.value * barSpace / maximum)
            let name = HTML.escape(String(entry.label.prefix(22)))
            svg += "<text x=\"0\" y=\"\(y + 15)\" font-size=\"13\" fill=\"#1f2633\">\(name)</text>"
            svg +=
                "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(length)\" height=\"15\" rx=\"2\" fill=\"\(color(entry.label))\"/>"
            svg +=
                "<text x=\"\(labelWidth + length + 6)\" y=\"\(y + 15)\" font-size=\"13\" fill=\"#1f2633\">\(entry.value)</text>"
        }
        return svg + "</svg>"
    }

    static func color(_ label: String) -> String {
        switch label {
        case "healthy": "#2e7d32"
        case "unhealthy": "#c62828"
        case "paused": "#b26a00"
        default: "#3659c9"
        }
    }
}
