package demo.dynsni;

import java.util.Collection;
import java.util.Map;

/** Just enough JSON for the demo's facts: maps, collections, strings, numbers, booleans, null. */
final class Json
{
    private Json()
    {
    }

    static String write(Object value)
    {
        StringBuilder out = new StringBuilder();
        write(out, value);
        return out.append('\n').toString();
    }

    private static void write(StringBuilder out, Object value)
    {
        if (value == null)
        {
            out.append("null");
        }
        else if (value instanceof Map<?, ?> map)
        {
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> entry : map.entrySet())
            {
                if (!first)
                    out.append(',');
                first = false;
                string(out, String.valueOf(entry.getKey()));
                out.append(':');
                write(out, entry.getValue());
            }
            out.append('}');
        }
        else if (value instanceof Collection<?> collection)
        {
            out.append('[');
            boolean first = true;
            for (Object item : collection)
            {
                if (!first)
                    out.append(',');
                first = false;
                write(out, item);
            }
            out.append(']');
        }
        else if (value instanceof Number || value instanceof Boolean)
        {
            out.append(value);
        }
        else
        {
            string(out, value.toString());
        }
    }

    private static void string(StringBuilder out, String value)
    {
        out.append('"');
        for (int i = 0; i < value.length(); i++)
        {
            char c = value.charAt(i);
            switch (c)
            {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default ->
                {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&')
                        out.append(String.format("\\u%04x", (int)c));
                    else
                        out.append(c);
                }
            }
        }
        out.append('"');
    }
}
