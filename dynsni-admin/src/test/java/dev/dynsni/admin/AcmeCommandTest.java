package dev.dynsni.admin;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import com.sun.net.httpserver.HttpServer;
import dev.dynsni.core.acme.ChallengeBoard;
import dev.dynsni.testing.FreePorts;
import dev.dynsni.testing.PebbleProcess;
import dev.dynsni.testing.TestServices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code dynsni acme register | status | renew} against a real Pebble: a "node" (a challenge board on
 * the shared table, behind a small HTTP server Pebble validates against) answers the http-01 challenge
 * the tool publishes.
 */
class AcmeCommandTest extends AdminTestBase
{
    private static PebbleProcess pebble;
    private static HttpServer node;
    private static ChallengeBoard board;

    @BeforeAll
    static void startPebble() throws Exception
    {
        assumeTrue(TestServices.installed(PebbleProcess.available(), "pebble, pebble-challtestsrv and openssl"));
        board = new ChallengeBoard(TestServices::connect, TestServices::connect, schema);
        board.start();
        node = HttpServer.create(new InetSocketAddress("127.0.0.1", FreePorts.next()), 8);
        node.createContext("/.well-known/acme-challenge/", exchange ->
        {
            String path = exchange.getRequestURI().getPath();
            String answer = null;
            try
            {
                answer = board.http01(path.substring(path.lastIndexOf('/') + 1)).get(5, TimeUnit.SECONDS);
            }
            catch (Exception x)
            {
                // 404 below
            }
            byte[] body = (answer == null ? "none" : answer).getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(answer == null ? 404 : 200, body.length);
            try (OutputStream out = exchange.getResponseBody())
            {
                out.write(body);
            }
        });
        node.start();
        pebble = new PebbleProcess(node.getAddress().getPort(), FreePorts.next()).start();
    }

    @AfterAll
    static void stopPebble()
    {
        if (node != null)
            node.stop(0);
        if (board != null)
            board.stop();
        if (pebble != null)
            pebble.close();
    }

    private static Result acme(String... args)
    {
        String[] all = new String[args.length + 7];
        all[0] = "acme";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "--acme-directory-url";
        all[args.length + 2] = pebble.directoryUrl();
        all[args.length + 3] = "--acme-ca-file";
        all[args.length + 4] = pebble.caFile().toString();
        all[args.length + 5] = "--acme-challenge-type";
        all[args.length + 6] = "http-01";
        return run(all);
    }

    @Test
    void register_printsTheAccount_andFindsItAgain()
    {
        Result first = acme("register");
        assertEquals(0, first.exit(), first::toString);
        assertTrue(first.out().startsWith("account " + "https://127.0.0.1:" + pebble.acmePort() + "/my-account/"), first::toString);
        Result again = acme("register");
        assertEquals(first.out(), again.out(), "the same key finds the same account");
    }

    @Test
    void renew_fromTheTool_ordersWithTheNodesAnsweringTheChallenge_andStatusShowsIt()
    {
        Result before = acme("status", "tool.acme.test");
        assertEquals(0, before.exit(), before::toString);
        assertTrue(before.out().contains("certificate none"), before::toString);
        assertTrue(before.out().contains("never ordered by ACME"), before::toString);

        Result renewed = acme("renew", "Tool.ACME.test.");
        assertEquals(0, renewed.exit(), renewed::toString);
        assertTrue(renewed.out().startsWith("renewed tool.acme.test notAfter="), renewed::toString);

        Result after = acme("status", "tool.acme.test");
        assertTrue(after.out().contains("certificate EC notAfter="), after::toString);
        assertTrue(after.out().contains("order       state=issued attempts=0 nextAttempt=now"), after::toString);
        assertTrue(after.out().contains("challenge   none pending"), after::toString);

        Result later = acme("renew", "tool.acme.test", "--later");
        assertEquals(0, later.exit(), later::toString);
        assertTrue(acme("status", "tool.acme.test").out().contains("renewal=requested"));
    }

    @Test
    void badInput_oneLineErrors()
    {
        Result noHost = acme("status");
        assertEquals(DynSni.EXIT_USAGE, noHost.exit(), noHost::toString);
        assertEquals("dynsni acme: error: 'acme status' needs a HOST", noHost.errLines().get(0));

        Result wildcard = acme("renew", "*.acme.test");
        assertEquals(DynSni.EXIT_REJECTED, wildcard.exit(), wildcard::toString);

        Result neverIssued = acme("renew", "never.acme.test", "--later");
        assertEquals(DynSni.EXIT_REJECTED, neverIssued.exit(), neverIssued::toString);
        assertTrue(neverIssued.err().contains("never issued by ACME"), neverIssued::toString);

        Result noDirectory = run("acme", "register");
        assertEquals(DynSni.EXIT_USAGE, noDirectory.exit(), noDirectory::toString);
        assertTrue(noDirectory.err().contains("--acme-directory-url"), noDirectory::toString);
    }
}
