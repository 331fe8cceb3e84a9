package dev.dynsni;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.annotation.ManagedObject;

/**
 * Answers ACME http-01 validations (RFC 8555 section 8.3): {@code GET /.well-known/acme-challenge/TOKEN}
 * gets the token's key authorization as {@code text/plain}, from the state shared by the fleet
 * ({@code AcmeChallenges.http01}), so whichever node the CA reaches answers; a token with no pending
 * challenge gets 404. Every other request goes on to the wrapped handlers unchanged, and so does
 * every request while ACME is off.
 *
 * <p>The module's XML puts it in front of every context ({@code Server.insertHandler}), so it answers
 * on every connector: the CA asks on plain HTTP, port 80 (or whatever a proxy forwards there), for any
 * host name. The answer never waits on a Jetty thread: the request completes when the shared state's
 * future does.</p>
 */
@ManagedObject("Answers ACME http-01 validations at /.well-known/acme-challenge/")
public class AcmeChallengeHandler extends Handler.Wrapper
{
    /** Where the CA asks (RFC 8555 section 8.3). */
    public static final String PATH_PREFIX = "/.well-known/acme-challenge/";
    /** A token is base64url (RFC 8555 section 8.1); anything else is never pending. */
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{1,256}");

    private final DynamicSniSslContextFactory sslContextFactory;

    /**
     * @param sslContextFactory the factory whose ACME service holds the challenges
     */
    public AcmeChallengeHandler(DynamicSniSslContextFactory sslContextFactory)
    {
        this.sslContextFactory = sslContextFactory;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception
    {
        String path = request.getHttpURI().getPath();
        CertificateResolver resolver = sslContextFactory.getResolver();
        if (path == null || !path.startsWith(PATH_PREFIX) || resolver == null || !resolver.isAcmeOn())
            return super.handle(request, response, callback);
        String method = request.getMethod();
        if (!HttpMethod.GET.is(method) && !HttpMethod.HEAD.is(method))
        {
            Response.writeError(request, response, callback, HttpStatus.METHOD_NOT_ALLOWED_405);
            return true;
        }
        String token = path.substring(PATH_PREFIX.length());
        CompletableFuture<String> answer = TOKEN.matcher(token).matches() ? resolver.http01(token) : CompletableFuture.completedFuture(null);
        answer.whenComplete((authorization, failure) ->
        {
            if (authorization == null || failure != null)
            {
                Response.writeError(request, response, callback, HttpStatus.NOT_FOUND_404);
                return;
            }
            response.setStatus(HttpStatus.OK_200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            byte[] body = authorization.getBytes(StandardCharsets.US_ASCII);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
            response.write(true, HttpMethod.HEAD.is(method) ? BufferUtil.EMPTY_BUFFER : BufferUtil.toBuffer(body), callback);
        });
        return true;
    }
}
