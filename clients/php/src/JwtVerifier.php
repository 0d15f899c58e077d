<?php
/**
 * Verifies the service's JWT access tokens locally, against its JWKS, with the same strictness as
 * the service's own verifier (src/tokens/jwt-verify.ts): one pinned algorithm (EdDSA through
 * sodium, ES256 and RS256 through openssl), header parameters `alg`, `kid`, `typ: at+jwt` and
 * nothing else (no `crit`, `jku`, `jwk`, `x5u` ...; nothing is fetched from a token), canonical
 * base64url, the issuer and audience, `exp` required, `iat`/`nbf` not in the future (with a small
 * leeway), `sub` and `sid` present. Expired tokens throw SessionExpired, everything else
 * TokenMalformed / TokenInvalid, with a reason but never the token.
 *
 * Local verification cannot see a revocation: a revoked session's access token keeps verifying
 * until it expires (the service's access-token lifetime, 5 minutes by default). Where that matters,
 * validate through the service (Client::validate) instead.
 *
 * Example:
 *     $verifier = new Sessionkit\JwtVerifier(Sessionkit\Jwks::forService($url), 'EdDSA', 'sessionkit', 'sessionkit');
 *     $claims = $verifier->verify($accessToken);   // ['sub' => 'u1', 'sid' => '...', 'roles' => [...], ...]
 */
declare(strict_types=1);

namespace Sessionkit;

final class JwtVerifier
{
    private const MAX_TOKEN = 4096;
    private const SEGMENT = '/^[A-Za-z0-9_-]+$/';
    private const ALLOWED_HEADER = ['alg' => true, 'kid' => true, 'typ' => true];
    /** Signature length in bytes, and the key type (and curve) each algorithm needs. */
    private const ALGORITHMS = [
        'EdDSA' => ['bytes' => 64, 'kty' => 'OKP', 'crv' => 'Ed25519'],
        'ES256' => ['bytes' => 64, 'kty' => 'EC', 'crv' => 'P-256'],
        'RS256' => ['bytes' => null, 'kty' => 'RSA', 'crv' => null],
    ];

    /** @var \Closure(): int */
    private readonly \Closure $clock;

    public function __construct(
        private readonly Jwks $jwks,
        private readonly string $algorithm = 'EdDSA',
        private readonly string $issuer = 'sessionkit',
        private readonly string $audience = 'sessionkit',
        private readonly int $leeway = 5,
        ?\Closure $clock = null,
    ) {
        if (!isset(self::ALGORITHMS[$algorithm])) {
            throw new \InvalidArgumentException("algorithm must be EdDSA, ES256 or RS256 (HS256 keys are secret and not in the JWKS), got $algorithm");
        }
        if ($algorithm === 'EdDSA' && !function_exists('sodium_crypto_sign_verify_detached')) {
            throw new \LogicException('EdDSA verification needs the sodium extension');
        }
        if ($algorithm !== 'EdDSA' && !function_exists('openssl_verify')) {
            throw new \LogicException("$algorithm verification needs the openssl extension");
        }
        if ($leeway < 0 || $leeway > 300) {
            throw new \InvalidArgumentException('leeway must be 0 to 300 seconds');
        }
        $this->clock = $clock ?? static fn (): int => time();
    }

    /** The claims of a valid access token; throws TokenMalformed, TokenInvalid or SessionExpired. */
    public function verify(#[\SensitiveParameter] string $token): array
    {
        if (strlen($token) > self::MAX_TOKEN) {
            throw new TokenMalformed('the access token is too long');
        }
        $parts = explode('.', $token);
        if (count($parts) !== 3 || !str_starts_with($token, 'eyJ')) {
            throw new TokenMalformed('not a JWT access token');
        }
        [$headerPart, $payloadPart, $signaturePart] = $parts;
        $header = self::decodeJson($headerPart, true);
        if ($header === null) {
            throw self::invalid('header');
        }
        foreach (array_keys($header) as $name) {
            if (!isset(self::ALLOWED_HEADER[$name])) {
                throw self::invalid('header_param');
            }
        }
        if (($header['alg'] ?? null) !== $this->algorithm) {
            throw self::invalid('alg');
        }
        $kid = $header['kid'] ?? null;
        if (!is_string($kid) || $kid === '' || strlen($kid) > 64) {
            throw self::invalid('kid');
        }
        $typ = is_string($header['typ'] ?? null) ? strtolower($header['typ']) : null;
        if ($typ !== 'at+jwt' && $typ !== 'application/at+jwt') {
            throw self::invalid('typ');
        }
        $jwk = $this->jwks->key($kid);
        if ($jwk === null) {
            throw self::invalid('unknown_kid');
        }
        $spec = self::ALGORITHMS[$this->algorithm];
        if (($jwk['kty'] ?? null) !== $spec['kty'] || ($spec['crv'] !== null && ($jwk['crv'] ?? null) !== $spec['crv'])
            || (isset($jwk['alg']) && $jwk['alg'] !== $this->algorithm) || (isset($jwk['use']) && $jwk['use'] !== 'sig')) {
            throw self::invalid('alg_mismatch');
        }
        $signature = self::strictDecode($signaturePart);
        if ($signature === null || ($spec['bytes'] !== null && strlen($signature) !== $spec['bytes'])) {
            throw self::invalid('signature');
        }
        if (!$this->verifySignature($headerPart . '.' . $payloadPart, $signature, $jwk)) {
            throw self::invalid('signature');
        }
        $claims = self::decodeJson($payloadPart, false);
        if ($claims === null) {
            throw self::invalid('payload');
        }
        return $this->checkClaims($claims);
    }

    private function checkClaims(array $c): array
    {
        if (($c['iss'] ?? null) !== $this->issuer) {
            throw self::invalid('issuer');
        }
        $aud = $c['aud'] ?? null;
        if ($aud !== $this->audience && !(is_array($aud) && in_array($this->audience, $aud, true))) {
            throw self::invalid('audience');
        }
        $exp = $c['exp'] ?? null;
        $iat = $c['iat'] ?? null;
        if (!self::isNumber($exp) || !self::isNumber($iat)) {
            throw self::invalid('claims');
        }
        $now = ($this->clock)();
        if ($now >= $exp + $this->leeway) {
            throw new SessionExpired('the access token has expired');
        }
        if ($iat > $now + $this->leeway) {
            throw self::invalid('issued_in_future');
        }
        if (array_key_exists('nbf', $c) && (!self::isNumber($c['nbf']) || $c['nbf'] > $now + $this->leeway)) {
            throw self::invalid('not_yet_valid');
        }
        if (!is_string($c['sub'] ?? null) || $c['sub'] === '' || !is_string($c['sid'] ?? null) || $c['sid'] === ''
            || strlen($c['sid']) > 256 || !is_string($c['jti'] ?? null)) {
            throw self::invalid('claims');
        }
        $c['roles'] ??= [];
        if (!is_array($c['roles']) || !array_is_list($c['roles']) || array_filter($c['roles'], 'is_string') !== $c['roles']) {
            throw self::invalid('claims');
        }
        if (array_key_exists('events', $c)) {
            throw self::invalid('logout_token');
        }
        return $c;
    }

    private function verifySignature(string $input, string $signature, array $jwk): bool
    {
        switch ($this->algorithm) {
            case 'EdDSA':
                $public = self::strictDecode((string) ($jwk['x'] ?? ''));
                return $public !== null && strlen($public) === SODIUM_CRYPTO_SIGN_PUBLICKEYBYTES
                    && sodium_crypto_sign_verify_detached($signature, $input, $public);
            case 'ES256':
                $pem = PublicKeys::ecP256((string) ($jwk['x'] ?? ''), (string) ($jwk['y'] ?? ''));
                return $pem !== null && @openssl_verify($input, PublicKeys::ecdsaDer($signature), $pem, OPENSSL_ALGO_SHA256) === 1;
            default:
                $pem = PublicKeys::rsa((string) ($jwk['n'] ?? ''), (string) ($jwk['e'] ?? ''));
                if ($pem === null || strlen($signature) !== PublicKeys::rsaModulusBytes((string) $jwk['n'])) {
                    return false;
                }
                return @openssl_verify($input, $signature, $pem, OPENSSL_ALGO_SHA256) === 1;
        }
    }

    private static function isNumber(mixed $value): bool
    {
        return is_int($value) || (is_float($value) && is_finite($value));
    }

    private static function invalid(string $reason): TokenInvalid
    {
        return new TokenInvalid("the access token is not valid ($reason)");
    }

    /** A JSON object from a base64url segment; $strict: only the canonical encoding. */
    private static function decodeJson(string $segment, bool $strict): ?array
    {
        $raw = $strict ? self::strictDecode($segment) : self::looseDecode($segment);
        if ($raw === null) {
            return null;
        }
        try {
            $value = json_decode($raw, true, 16, JSON_THROW_ON_ERROR);
        } catch (\JsonException) {
            return null;
        }
        return is_array($value) && !array_is_list($value) ? $value : null;
    }

    /** Base64url without padding, and with zero unused bits in the last character. */
    public static function strictDecode(string $segment): ?string
    {
        if ($segment === '' || strlen($segment) % 4 === 1 || preg_match(self::SEGMENT, $segment) !== 1) {
            return null;
        }
        $bytes = base64_decode(strtr($segment, '-_', '+/'), true);
        if ($bytes === false || rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=') !== $segment) {
            return null;
        }
        return $bytes;
    }

    /** The payload is covered by the signature (its exact bytes), so plain decoding is enough. */
    private static function looseDecode(string $segment): ?string
    {
        $bytes = base64_decode(strtr($segment, '-_', '+/'), true);
        return $bytes === false ? null : $bytes;
    }
}
