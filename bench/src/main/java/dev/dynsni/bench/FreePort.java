package dev.dynsni.bench;

import java.io.IOException;
import java.net.ServerSocket;

/** A currently free local port (for processes that must be told their port up front). */
final class FreePort
{
    private FreePort()
    {
    }

    static int next() throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0))
        {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }
}
