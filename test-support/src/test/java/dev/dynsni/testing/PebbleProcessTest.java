package dev.dynsni.testing;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class PebbleProcessTest
{
    @Test
    void start_servesDirectoryOverTrustedHttps_andRestartsOnTheSamePort() throws Exception
    {
        assumeTrue(TestServices.installed(PebbleProcess.available(), "pebble, pebble-challtestsrv and openssl"));
        try (PebbleProcess pebble = new PebbleProcess(FreePorts.next(), FreePorts.next()).start())
        {
            HttpClient client = HttpClient.newBuilder().sslContext(pebble.sslContext()).build();
            HttpResponse<String> directory = client.send(HttpRequest.newBuilder(URI.create(pebble.directoryUrl())).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, directory.statusCode());
            assertTrue(directory.body().contains("newOrder"), directory.body());

            X509Certificate root = pebble.issuingRoot();
            assertTrue(root.getBasicConstraints() >= 0, "the issuing root is a CA");

            pebble.stop();
            assertFalse(TestServices.reachable(new InetSocketAddress("127.0.0.1", pebble.acmePort())), "stopped Pebble refuses connections");

            pebble.start();
            assertEquals(200, client.send(HttpRequest.newBuilder(URI.create(pebble.directoryUrl())).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            assertNotEquals(root, pebble.issuingRoot(), "Pebble makes a new issuing root at every start");
        }
    }
}
