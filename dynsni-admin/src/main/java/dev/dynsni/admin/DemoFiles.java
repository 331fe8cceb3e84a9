package dev.dynsni.admin;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** Writing demo files; private keys are created readable by the owner only (where POSIX permissions exist). */
final class DemoFiles
{
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    private static final FileAttribute<?>[] OWNER_ONLY = POSIX
        ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
        : new FileAttribute<?>[0];
    private static final Set<StandardOpenOption> CREATE = Set.of(StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);

    private DemoFiles()
    {
    }

    static void writePrivate(Path file, String text) throws IOException
    {
        // TRUNCATE_EXISTING keeps an existing file's permissions: remove it so the new one is owner-only.
        Files.deleteIfExists(file);
        try (SeekableByteChannel channel = Files.newByteChannel(file, CREATE, OWNER_ONLY))
        {
            ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
            while (buffer.hasRemaining())
            {
                channel.write(buffer);
            }
        }
    }

    static void writePublic(Path file, String text) throws IOException
    {
        Files.writeString(file, text, StandardCharsets.US_ASCII);
    }
}
