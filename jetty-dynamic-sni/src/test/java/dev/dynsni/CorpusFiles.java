package dev.dynsni;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The captured ClientHello corpus: {@code clienthello/index.txt} lists one file per line with the
 * answer the parser must give for it ({@code file expected}, e.g. {@code curl.bin SNI(x.example.com)}).
 */
final class CorpusFiles
{
    private CorpusFiles()
    {
    }

    /** @return file name to expected result, in index order; empty when there is no index */
    static Map<String, String> expected()
    {
        Map<String, String> expected = new LinkedHashMap<>();
        try (InputStream in = CorpusFiles.class.getResourceAsStream(ClientHellos.CORPUS + "index.txt"))
        {
            if (in == null)
                return expected;
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null)
            {
                line = line.strip();
                if (line.isEmpty() || line.startsWith("#"))
                    continue;
                String[] parts = line.split("\\s+", 2);
                expected.put(parts[0], parts.length > 1 ? parts[1] : "");
            }
            return expected;
        }
        catch (IOException x)
        {
            throw new UncheckedIOException(x);
        }
    }

    static List<String> names()
    {
        return List.copyOf(expected().keySet());
    }
}
