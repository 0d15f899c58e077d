<?php
/**
 * Public JWKs (RFC 7517/7518) as PEM for openssl: a P-256 point (x, y) and an RSA modulus and
 * exponent (n, e) wrapped in SubjectPublicKeyInfo DER; and a JWS ES256 signature (r || s, 64
 * bytes) as the DER ECDSA-Sig-Value openssl expects. Only DER's definite-length forms are needed.
 *
 * Example:
 *     $pem = Sessionkit\PublicKeys::ecP256($jwk['x'], $jwk['y']);
 *     openssl_verify($input, Sessionkit\PublicKeys::ecdsaDer($sig), $pem, OPENSSL_ALGO_SHA256);
 */
declare(strict_types=1);

namespace Sessionkit;

final class PublicKeys
{
    /** SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING ... } up to the point. */
    private const P256_PREFIX = '3059301306072a8648ce3d020106082a8648ce3d030107034200';
    /** SEQUENCE { rsaEncryption OID, NULL } */
    private const RSA_ALGORITHM = '300d06092a864886f70d0101010500';

    public static function ecP256(string $x, string $y): ?string
    {
        $xb = JwtVerifier::strictDecode($x);
        $yb = JwtVerifier::strictDecode($y);
        if ($xb === null || $yb === null || strlen($xb) !== 32 || strlen($yb) !== 32) {
            return null;
        }
        return self::pem(hex2bin(self::P256_PREFIX) . "\x04" . $xb . $yb);
    }

    public static function rsa(string $n, string $e): ?string
    {
        $nb = JwtVerifier::strictDecode($n);
        $eb = JwtVerifier::strictDecode($e);
        // 2048 bits at least, as the service issues; a small exponent, as RFC 8017 allows.
        if ($nb === null || $eb === null || strlen(ltrim($nb, "\0")) < 256 || strlen($eb) > 8) {
            return null;
        }
        $key = self::der(0x30, self::integer($nb) . self::integer($eb));
        return self::pem(self::der(0x30, hex2bin(self::RSA_ALGORITHM) . self::der(0x03, "\0" . $key)));
    }

    /** The modulus length in bytes: an RS256 signature is exactly that long. */
    public static function rsaModulusBytes(string $n): int
    {
        return strlen(ltrim((string) JwtVerifier::strictDecode($n), "\0"));
    }

    /** r || s (32 bytes each) as DER SEQUENCE { INTEGER r, INTEGER s }. */
    public static function ecdsaDer(string $signature): string
    {
        return self::der(0x30, self::integer(substr($signature, 0, 32)) . self::integer(substr($signature, 32, 32)));
    }

    private static function integer(string $bytes): string
    {
        $bytes = ltrim($bytes, "\0");
        if ($bytes === '' || (ord($bytes[0]) & 0x80) !== 0) {
            $bytes = "\0" . $bytes;
        }
        return self::der(0x02, $bytes);
    }

    private static function der(int $tag, string $content): string
    {
        $length = strlen($content);
        if ($length < 0x80) {
            return chr($tag) . chr($length) . $content;
        }
        $bytes = ltrim(pack('N', $length), "\0");
        return chr($tag) . chr(0x80 | strlen($bytes)) . $bytes . $content;
    }

    private static function pem(string $der): string
    {
        return "-----BEGIN PUBLIC KEY-----\n" . chunk_split(base64_encode($der), 64, "\n") . "-----END PUBLIC KEY-----\n";
    }
}
