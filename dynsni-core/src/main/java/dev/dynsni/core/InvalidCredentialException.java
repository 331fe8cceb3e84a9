package dev.dynsni.core;

/**
 * A certificate or key that cannot be served, with a reason fit for an operator (never key material).
 */
public class InvalidCredentialException extends Exception
{
    public InvalidCredentialException(String reason)
    {
        super(reason, null, false, false);
    }

    public InvalidCredentialException(String reason, Throwable cause)
    {
        super(reason, cause, false, false);
    }
}
