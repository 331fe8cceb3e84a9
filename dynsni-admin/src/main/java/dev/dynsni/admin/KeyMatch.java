package dev.dynsni.admin;

import java.math.BigInteger;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.util.Map;

import dev.dynsni.internal.Pem;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;

/**
 * Proves that a private key belongs to a public key, fast enough for bulk imports.
 *
 * <p>For EC keys on P-256, P-384 and P-521 the public point is derived from the private scalar with
 * BouncyCastle's fixed-base comb multiplication (about 50 µs for P-256) and compared with the
 * certificate's point: as strong a proof as {@link Pem#matches}' sign-and-verify, which costs about
 * 1 ms with the JDK's provider and would dominate an import of 100,000 pairs. Other keys go through
 * {@link Pem#matches} (RSA compares modulus and exponent, which is already cheap). Thread-safe.</p>
 */
final class KeyMatch
{
    private static final Map<BigInteger, X9ECParameters> CURVES = Map.of(
        CustomNamedCurves.getByName("secp256r1").getN(), CustomNamedCurves.getByName("secp256r1"),
        CustomNamedCurves.getByName("secp384r1").getN(), CustomNamedCurves.getByName("secp384r1"),
        CustomNamedCurves.getByName("secp521r1").getN(), CustomNamedCurves.getByName("secp521r1"));

    private KeyMatch()
    {
    }

    static boolean matches(PrivateKey key, PublicKey publicKey)
    {
        if (key instanceof ECPrivateKey ec && publicKey instanceof ECPublicKey pub)
        {
            BigInteger order = ec.getParams().getOrder();
            X9ECParameters curve = CURVES.get(order);
            if (curve != null && order.equals(pub.getParams().getOrder()) &&
                ec.getParams().getCurve().getField().getFieldSize() == curve.getCurve().getFieldSize())
            {
                BigInteger d = ec.getS();
                if (d.signum() <= 0 || d.compareTo(order) >= 0)
                    return false;
                ECPoint q = new FixedPointCombMultiplier().multiply(curve.getG(), d).normalize();
                return q.getAffineXCoord().toBigInteger().equals(pub.getW().getAffineX()) &&
                    q.getAffineYCoord().toBigInteger().equals(pub.getW().getAffineY());
            }
        }
        return Pem.matches(key, publicKey);
    }
}
