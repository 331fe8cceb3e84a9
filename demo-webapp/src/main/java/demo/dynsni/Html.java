package demo.dynsni;

import java.util.Collection;
import java.util.Map;

/** The tenant page: a small self-contained HTML document, every value escaped. */
final class Html
{
    private Html()
    {
    }

    static String page(Map<String, Object> facts)
    {
        String tenant = escape(facts.get("tenant"));
        StringBuilder out = new StringBuilder(2048);
        out.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .append("<title>").append(tenant).append(" | jetty-dynamic-sni demo</title>\n")
            .append("<style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}")
            .append("th{text-align:left;padding-right:1.5rem;vertical-align:top;color:#555;font-weight:normal}")
            .append("td{font-family:ui-monospace,monospace;word-break:break-all}h1 small{color:#777;font-weight:normal}</style>\n")
            .append("</head>\n<body>\n")
            .append("<h1>Tenant ").append(tenant).append(" <small>").append(escape(facts.get("host"))).append("</small></h1>\n")
            .append("<p>This page was served over a TLS connection whose certificate Jetty chose at handshake time ")
            .append("from the SNI name, looked up in PostgreSQL through Redis.</p>\n");
        table(out, "Certificate served on this connection", (Map<?, ?>)facts.get("certificate"));
        table(out, "TLS", (Map<?, ?>)facts.get("tls"));
        out.append("<h2>HTTP</h2>\n<table>\n");
        row(out, "ALPN protocol", facts.get("alpn"));
        row(out, "Request protocol", facts.get("httpVersion"));
        out.append("</table>\n");
        out.append("<p><a href=\"?format=json\">JSON</a></p>\n</body>\n</html>\n");
        return out.toString();
    }

    private static void table(StringBuilder out, String title, Map<?, ?> values)
    {
        out.append("<h2>").append(escape(title)).append("</h2>\n<table>\n");
        for (Map.Entry<?, ?> entry : values.entrySet())
        {
            row(out, entry.getKey(), entry.getValue());
        }
        out.append("</table>\n");
    }

    private static void row(StringBuilder out, Object name, Object value)
    {
        String text = value instanceof Collection<?> collection ? String.join(", ", collection.stream().map(String::valueOf).toList()) : String.valueOf(value);
        out.append("<tr><th>").append(escape(name)).append("</th><td>").append(escape(text)).append("</td></tr>\n");
    }

    static String escape(Object value)
    {
        String text = String.valueOf(value);
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++)
        {
            char c = text.charAt(i);
            switch (c)
            {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
