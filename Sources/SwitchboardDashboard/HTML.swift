/// The pages' repeated markup (tables, filter forms), written directly rather than through the
/// template engine: the engine reads values by reflection, which cost the connections page ten
/// times the JSON list's time for its 100 rows (`switchboard bench`'s dashboard section). Every
/// value goes through `escape`.
enum HTML {
    /// Appends `text` with `<`, `>`, `&`, `"` and `'` escaped, so it is text in an element or in
    /// a quoted attribute.
    static func escape(_ text: String, into out: inout String) {
        var start = text.utf8.startIndex
        var index = start
        let utf8 = text.utf8
        while index != utf8.endIndex {
            let replacement: String? =
                switch utf8[index] {
                case UInt8(ascii: "<"): "&lt;"
                case UInt8(ascii: ">"): "&gt;"
                case UInt8(ascii: "&"): "&amp;"
                case UInt8(ascii: "\""): "&quot;"
                case UInt8(ascii: "'"): "&#39;"
                default: nil
                }
            if let replacement {
                out += text[start..<index]
                out += replacement
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        out += text[start..<utf8.endIndex]
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        escape(text, into: &out)
        return out
    }

    /// A table from the pages' row descriptions: each row may carry `dataName`/`dataValue` (a
    /// `data-` attribute), `flag` (a class), `cells` (`text`, optional `href` or `badge`) and
    /// `actions` (POST buttons: `formClass`, `action`, `label`, `danger`), which carry `csrf`.
    static func table(
        id: String,
        caption: String,
        columns: [String],
        rows: [[String: Any]],
        empty: String,
        csrf: String? = nil
    ) -> String {
        var out = ""
        out.reserveCapacity(512 + rows.count * 400)
        out += "<table id=\""
        escape(id, into: &out)
        out += "\">\n<caption>"
        escape(caption, into: &out)
        out += "</caption>\n<thead><tr>"
        for column in columns {
            out += "<th scope=\"col\">"
            escape(column, into: &out)
            out += "</th>"
        }
        out += "</tr></thead>\n<tbody>\n"
        for row in rows {
            out += "<tr"
            if let name = row["dataName"] as? String, let value = row["dataValue"] as? String {
                out += " data-"
                escape(name, into: &out)
                out += "=\""
                escape(value, into: &out)
                out += "\""
            }
            if let flag = row["flag"] as? String, !flag.isEmpty {
                out += " class=\""
                escape(flag, into: &out)
                out += "\""
            }
            out += ">"
            for cell in row["cells"] as? [[String: Any]] ?? [] {
                out += "<td>"
                let text = cell["text"] as? String ?? ""
                if let href = cell["href"] as? String {
                    out += "<a href=\""
                    escape(href, into: &out)
                    out += "\">"
                    escape(text, into: &out)
                    out += "</a>"
                } else if let badge = cell["badge"] as? String {
                    out += "<span class=\"badge "
                    escape(badge, into: &out)
                    out += "\">"
                    escape(text, into: &out)
                    out += "</span>"
                } else {
                    escape(text, into: &out)
                }
                out += "</td>"
            }
            if let actions = row["actions"] as? [[String: Any]] {
                out += "<td>"
                for action in actions {
                    out += "<form class=\""
                    escape(action["formClass"] as? String ?? "", into: &out)
                    out += "\" method=\"post\" action=\""
                    escape(action["action"] as? String ?? "", into: &out)
                    out += "\"><input type=\"hidden\" name=\"csrf\" value=\""
                    escape(csrf ?? "", into: &out)
                    out += "\"><button type=\"submit\""
                    if action["danger"] as? Bool == true { out += " class=\"danger\"" }
                    out += ">"
                    escape(action["label"] as? String ?? "", into: &out)
                    out += "</button></form>"
                }
                out += "</td>"
            }
            out += "</tr>\n"
        }
        if rows.isEmpty {
            out += "<tr><td colspan=\"\(columns.count)\" class=\"empty\">"
            escape(empty, into: &out)
            out += "</td></tr>\n"
        }
        out += "</tbody>\n</table>\n"
        return out
    }

    /// A GET filter form (`id="filters"`): text inputs (with a `datalist` of `suggestions`), and
    /// selects where a field has `options` (`value`, `text`, `selected`), every control labelled.
    static func filters(action: String, fields: [[String: Any]]) -> String {
        var out = "<form id=\"filters\" method=\"get\" action=\""
        escape(action, into: &out)
        out += "\" class=\"filters\">\n"
        for field in fields {
            let name = field["name"] as? String ?? ""
            out += "<div class=\"field\"><label for=\"f-"
            escape(name, into: &out)
            out += "\">"
            escape(field["label"] as? String ?? "", into: &out)
            out += "</label>\n"
            if let options = field["options"] as? [[String: Any]], !options.isEmpty {
                out += "<select id=\"f-"
                escape(name, into: &out)
                out += "\" name=\""
                escape(name, into: &out)
                out += "\""
                if field["multiple"] as? Bool == true { out += " multiple size=\"4\"" }
                out += ">"
                for option in options {
                    out += "<option value=\""
                    escape(option["value"] as? String ?? "", into: &out)
                    out += "\""
                    if option["selected"] as? Bool == true { out += " selected" }
                    out += ">"
                    escape(option["text"] as? String ?? "", into: &out)
                    out += "</option>"
                }
                out += "</select>"
            } else {
                out += "<input id=\"f-"
                escape(name, into: &out)
                out += "\" name=\""
                escape(name, into: &out)
                out += "\" type=\"text\" value=\""
                escape(field["value"] as? String ?? "", into: &out)
                out += "\""
                if let placeholder = field["placeholder"] as? String {
                    out += " placeholder=\""
                    escape(placeholder, into: &out)
                    out += "\""
                }
                let suggestions = field["suggestions"] as? [String] ?? []
                if !suggestions.isEmpty {
                    out += " list=\"f-"
                    escape(name, into: &out)
                    out += "-list\"><datalist id=\"f-"
                    escape(name, into: &out)
                    out += "-list\">"
                    for suggestion in suggestions {
                        out += "<option value=\""
                        escape(suggestion, into: &out)
                        out += "\">"
                    }
                    out += "</datalist"
                }
                out += ">"
            }
            out += "\n</div>\n"
        }
        out += "<div class=\"field actions\"><button type=\"submit\">Filter</button> <a href=\""
        escape(action, into: &out)
        out += "\">Clear</a></div>\n</form>\n"
        return out
    }
}
