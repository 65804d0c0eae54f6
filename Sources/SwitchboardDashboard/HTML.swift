/// The pages' repeated markup (tables, filter forms), written directly rather than through the
/// template engine: the engine reads values by reflection, which cost the connections page ten
/// times the JSON list's time for its 100 rows (`switchboard bench`'s dashboard section). Every
/// value goes through `escape`.
enum HTML {
    /// Markup being written, as UTF-8 bytes: appending bytes costs a fraction of appending to a
    /// String, and this runs for every cell of every row.
    struct Markup {
        var bytes: [UInt8] = []

        init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

        /// Markup as it is (never a value).
        mutating func raw(_ markup: StaticString) {
            markup.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }

        /// `text` with `<`, `>`, `&`, `"` and `'` escaped, so it is text in an element or in a
        /// quoted attribute.
        mutating func text(_ text: String) {
            var text = text
            text.withUTF8 { utf8 in
                for byte in utf8 {
                    switch byte {
                    case UInt8(ascii: "<"): raw("&lt;")
                    case UInt8(ascii: ">"): raw("&gt;")
                    case UInt8(ascii: "&"): raw("&amp;")
                    case UInt8(ascii: "\""): raw("&quot;")
                    case UInt8(ascii: "'"): raw("&#39;")
                    default: bytes.append(byte)
                    }
                }
            }
        }

        var string: String { String(decoding: bytes, as: UTF8.self) }
    }

    static func escape(_ text: String) -> String {
        var out = Markup(capacity: text.utf8.count + 16)
        out.text(text)
        return out.string
    }

    struct Cell {
        var text: String
        var href: String? = nil
        var badge: String? = nil
    }

    /// A POST button in a row (it carries the page's CSRF token).
    struct Action {
        var formClass: String
        var action: String
        var label: String
        var danger: Bool
    }

    struct Row {
        /// A `data-` attribute: its name (without `data-`) and value.
        var data: (name: String, value: String)? = nil
        /// A class.
        var flag: String? = nil
        var cells: [Cell]
        /// nil: no action column.
        var actions: [Action]? = nil
    }

    /// The pages' row descriptions as rows: each may carry `dataName`/`dataValue`, `flag`,
    /// `cells` (`text`, optional `href` or `badge`) and `actions` (`formClass`, `action`,
    /// `label`, `danger`).
    static func rows(_ descriptions: [[String: Any]]) -> [Row] {
        descriptions.map { row in
            Row(
                data: (row["dataName"] as? String).flatMap { name in (row["dataValue"] as? String).map { (name, $0) } },
                flag: row["flag"] as? String,
                cells: (row["cells"] as? [[String: Any]] ?? []).map {
                    Cell(text: $0["text"] as? String ?? "", href: $0["href"] as? String, badge: $0["badge"] as? String)
                },
                actions: (row["actions"] as? [[String: Any]])?.map {
                    Action(
                        formClass: $0["formClass"] as? String ?? "",
                        action: $0["action"] as? String ?? "",
                        label: $0["label"] as? String ?? "",
                        danger: $0["danger"] as? Bool ?? false
                    )
                }
            )
        }
    }

    static func table(
        id: String,
        caption: String,
        columns: [String],
        rows: [Row],
        empty: String,
        csrf: String? = nil
    ) -> String {
        var out = Markup(capacity: 512 + rows.count * 400)
        open(id: id, caption: caption, columns: columns, into: &out)
        for row in rows {
            out.raw("<tr")
            if let (name, value) = row.data { attribute("data-" + name, value, into: &out) }
            if let flag = row.flag, !flag.isEmpty { attribute("class", flag, into: &out) }
            out.raw(">")
            for cell in row.cells { self.cell(cell.text, href: cell.href, badge: cell.badge, into: &out) }
            if let actions = row.actions {
                out.raw("<td>")
                for action in actions {
                    out.raw("<form")
                    attribute("class", action.formClass, into: &out)
                    out.raw(" method=\"post\"")
                    attribute("action", action.action, into: &out)
                    out.raw("><input type=\"hidden\" name=\"csrf\"")
                    attribute("value", csrf ?? "", into: &out)
                    out.raw("><button type=\"submit\"")
                    if action.danger { out.raw(" class=\"danger\"") }
                    out.raw(">")
                    out.text(action.label)
                    out.raw("</button></form>")
                }
                out.raw("</td>")
            }
            out.raw("</tr>\n")
        }
        close(empty: rows.isEmpty ? empty : nil, columns: columns.count, into: &out)
        return out.string
    }

    /// A table's start, up to its first row.
    static func open(id: String, caption: String, columns: [String], into out: inout Markup) {
        out.raw("<table")
        attribute("id", id, into: &out)
        out.raw(">\n<caption>")
        out.text(caption)
        out.raw("</caption>\n<thead><tr>")
        for column in columns {
            out.raw("<th scope=\"col\">")
            out.text(column)
            out.raw("</th>")
        }
        out.raw("</tr></thead>\n<tbody>\n")
    }

    /// One cell: text, a link, or a badge.
    static func cell(_ text: String, href: String? = nil, badge: String? = nil, into out: inout Markup) {
        out.raw("<td>")
        if let href {
            out.raw("<a")
            attribute("href", href, into: &out)
            out.raw(">")
            out.text(text)
            out.raw("</a>")
        } else if let badge {
            out.raw("<span class=\"badge ")
            out.text(badge)
            out.raw("\">")
            out.text(text)
            out.raw("</span>")
        } else {
            out.text(text)
        }
        out.raw("</td>")
    }

    /// A table's end, with a row saying `empty` when it had none.
    static func close(empty: String?, columns: Int, into out: inout Markup) {
        if let empty {
            out.raw("<tr><td colspan=\"")
            out.text(String(columns))
            out.raw("\" class=\"empty\">")
            out.text(empty)
            out.raw("</td></tr>\n")
        }
        out.raw("</tbody>\n</table>\n")
    }

    /// ` name="value"`.
    static func attribute(_ name: String, _ value: String, into out: inout Markup) {
        out.raw(" ")
        out.bytes.append(contentsOf: name.utf8)
        out.raw("=\"")
        out.text(value)
        out.raw("\"")
    }

    /// A GET filter form (`id="filters"`): text inputs (with a `datalist` of `suggestions`), and
    /// selects where a field has `options` (`value`, `text`, `selected`), every control labelled.
    static func filters(action: String, fields: [[String: Any]]) -> String {
        var out = Markup(capacity: 4096)
        out.raw("<form id=\"filters\" method=\"get\" action=\"")
        out.text(action)
        out.raw("\" class=\"filters\">\n")
        for field in fields {
            let name = field["name"] as? String ?? ""
            out.raw("<div class=\"field\"><label for=\"f-")
            out.text(name)
            out.raw("\">")
            out.text(field["label"] as? String ?? "")
            out.raw("</label>\n")
            if let options = field["options"] as? [[String: Any]], !options.isEmpty {
                out.raw("<select id=\"f-")
                out.text(name)
                out.raw("\" name=\"")
                out.text(name)
                out.raw("\"")
                if field["multiple"] as? Bool == true { out.raw(" multiple size=\"4\"") }
                out.raw(">")
                for option in options {
                    out.raw("<option value=\"")
                    out.text(option["value"] as? String ?? "")
                    out.raw("\"")
                    if option["selected"] as? Bool == true { out.raw(" selected") }
                    out.raw(">")
                    out.text(option["text"] as? String ?? "")
                    out.raw("</option>")
                }
                out.raw("</select>")
            } else {
                out.raw("<input id=\"f-")
                out.text(name)
                out.raw("\" name=\"")
                out.text(name)
                out.raw("\" type=\"text\" value=\"")
                out.text(field["value"] as? String ?? "")
                out.raw("\"")
                if let placeholder = field["placeholder"] as? String {
                    out.raw(" placeholder=\"")
                    out.text(placeholder)
                    out.raw("\"")
                }
                let suggestions = field["suggestions"] as? [String] ?? []
                if !suggestions.isEmpty {
                    out.raw(" list=\"f-")
                    out.text(name)
                    out.raw("-list\"><datalist id=\"f-")
                    out.text(name)
                    out.raw("-list\">")
                    for suggestion in suggestions {
                        out.raw("<option value=\"")
                        out.text(suggestion)
                        out.raw("\">")
                    }
                    out.raw("</datalist")
                }
                out.raw(">")
            }
            out.raw("\n</div>\n")
        }
        out.raw("<div class=\"field actions\"><button type=\"submit\">Filter</button> <a href=\"")
        out.text(action)
        out.raw("\">Clear</a></div>\n</form>\n")
        return out.string
    }
}
