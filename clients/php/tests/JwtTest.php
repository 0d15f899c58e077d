<?php
/**
 * JwtVerifier and Jwks on access tokens the real service issued, with EdDSA, ES256 and RS256
 * (one service per algorithm), and every refusal the service's own verifier makes.
 */
declare(strict_types=1);

use Sessionkit\Jwks;
use Sessionkit\JwtVerifier;
use Sessionkit\ServiceUnavailable;
use Sessionkit\SessionExpired;
use Sessionkit\TokenInvalid;
use Sessionkit\TokenMalformed;

function service_for(string $alg): string
{
    return match ($alg) {
        'EdDSA' => sk_url(),
        'ES256' => env_required('SESSIONKIT_ES256_URL'),
        'RS256' => env_required('SESSIONKIT_RS256_URL'),
    };
}

function verifier(string $alg = 'EdDSA', ?Closure $clock = null, string $issuer = 'sessionkit', string $audience = 'sessionkit', ?Jwks $jwks = null): JwtVerifier
{
    return new JwtVerifier($jwks ?? Jwks::forService(service_for($alg), cacheFile: false), $alg, $issuer, $audience, 5, $clock);
}

function access_token(string $alg = 'EdDSA'): array
{
    return sk_client(service_for($alg))->create(new_user(), ['reader'], tokenType: 'jwt');
}

function b64url(string $bytes): string
{
    return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
}

/** The token with its header replaced (the signature no longer matters: the header is judged first). */
function with_header(string $token, array $header): string
{
    $parts = explode('.', $token);
    return b64url((string) json_encode($header)) . '.' . $parts[1] . '.' . $parts[2];
}

$tests = [];
foreach (['EdDSA', 'ES256', 'RS256'] as $alg) {
    $tests["verifies a $alg access token the service issued"] = function () use ($alg): void {
        $issued = access_token($alg);
        $header = json_decode(base64_decode(strtr(explode('.', $issued['accessToken'])[0], '-_', '+/')), true);
        assert_same($alg, $header['alg'], 'the service signs with ' . $alg);
        $claims = verifier($alg)->verify($issued['accessToken']);
        assert_same($issued['session']['userId'], $claims['sub']);
        assert_same($issued['session']['id'], $claims['sid']);
        assert_same(['reader'], $claims['roles']);
    };
    $tests["refuses a tampered $alg token"] = function () use ($alg): void {
        $token = access_token($alg)['accessToken'];
        [$h, $p, $s] = explode('.', $token);
        $claims = json_decode(base64_decode(strtr($p, '-_', '+/')), true);
        $claims['sub'] = 'someone-else';
        assert_throws(TokenInvalid::class, fn () => verifier($alg)->verify("$h." . b64url((string) json_encode($claims)) . ".$s"), '(signature)');
        $flipped = $s;
        $flipped[5] = $flipped[5] === 'A' ? 'B' : 'A';
        assert_throws(TokenInvalid::class, fn () => verifier($alg)->verify("$h.$p.$flipped"), '(signature)');
        assert_throws(TokenInvalid::class, fn () => verifier($alg)->verify("$h.$p.{$s}A"), '(signature)');
    };
}

return $tests + [
    'the algorithm is pinned' => function (): void {
        $token = access_token('EdDSA')['accessToken'];
        assert_throws(TokenInvalid::class, fn () => verifier('ES256', jwks: Jwks::forService(sk_url(), cacheFile: false))->verify($token), '(alg)');
        $header = json_decode(base64_decode(strtr(explode('.', $token)[0], '-_', '+/')), true);
        assert_throws(TokenInvalid::class, fn () => verifier()->verify(with_header($token, ['alg' => 'none'] + $header)), '(alg)');
        assert_throws(TokenInvalid::class, fn () => verifier()->verify(with_header($token, ['alg' => 'HS256'] + $header)), '(alg)');
        assert_throws(InvalidArgumentException::class, fn () => new JwtVerifier(Jwks::forService(sk_url()), 'HS256'));
    },
    'an EdDSA key is never used for an ES256 token claiming its kid' => function (): void {
        $eddsa = access_token('EdDSA')['accessToken'];
        $es = access_token('ES256')['accessToken'];
        $kid = json_decode(base64_decode(strtr(explode('.', $eddsa)[0], '-_', '+/')), true)['kid'];
        $forged = with_header($es, ['alg' => 'ES256', 'kid' => $kid, 'typ' => 'at+jwt']);
        assert_throws(TokenInvalid::class, fn () => verifier('ES256', jwks: Jwks::forService(sk_url(), cacheFile: false))->verify($forged), '(alg_mismatch)');
    },
    'header parameters outside alg, kid and typ are refused' => function (): void {
        $token = access_token()['accessToken'];
        $header = json_decode(base64_decode(strtr(explode('.', $token)[0], '-_', '+/')), true);
        foreach (['crit' => ['exp'], 'jku' => 'https://evil.example/jwks', 'jwk' => ['kty' => 'OKP']] as $name => $value) {
            assert_throws(TokenInvalid::class, fn () => verifier()->verify(with_header($token, $header + [$name => $value])), '(header_param)');
        }
        assert_throws(TokenInvalid::class, fn () => verifier()->verify(with_header($token, ['typ' => 'JWT'] + $header)), '(typ)');
        assert_throws(TokenInvalid::class, fn () => verifier()->verify(with_header($token, ['kid' => str_repeat('k', 65)] + $header)), '(kid)');
    },
    'expiry, issue time, issuer and audience are checked' => function (): void {
        $issued = access_token();
        $token = $issued['accessToken'];
        $exp = (new DateTimeImmutable($issued['accessTokenExpiresAt']))->getTimestamp();
        assert_throws(SessionExpired::class, fn () => verifier(clock: fn (): int => $exp + 5)->verify($token));
        verifier(clock: fn (): int => $exp + 4)->verify($token); // within the leeway
        assert_throws(TokenInvalid::class, fn () => verifier(clock: fn (): int => time() - 3600)->verify($token), '(issued_in_future)');
        assert_throws(TokenInvalid::class, fn () => verifier(issuer: 'https://other.example')->verify($token), '(issuer)');
        assert_throws(TokenInvalid::class, fn () => verifier(audience: 'other-api')->verify($token), '(audience)');
    },
    'what is not a JWT is malformed' => function (): void {
        assert_throws(TokenMalformed::class, fn () => verifier()->verify('sk_abc.def'));
        assert_throws(TokenMalformed::class, fn () => verifier()->verify('eyJhbGciOi.x'));
        assert_throws(TokenMalformed::class, fn () => verifier()->verify('eyJ' . str_repeat('a', 5000) . '.b.c'));
        assert_throws(TokenInvalid::class, fn () => verifier()->verify('eyJ=.e30.AAAA'), '(header)');
    },
    'an unknown kid refetches the JWKS once, so a rotation is seen at once' => function (): void {
        $now = time();
        $jwks = Jwks::forService(sk_url(), cacheFile: false, clock: function () use (&$now): int { return $now; });
        $v = verifier(jwks: $jwks);
        $v->verify(access_token()['accessToken']);
        assert_same(1, $jwks->fetches());
        $v->verify(access_token()['accessToken']);
        assert_same(1, $jwks->fetches(), 'a known kid: no fetch');
        sk_client()->rotateKeys();
        $now += 10; // the refetch interval since the first fetch
        $v->verify(access_token()['accessToken']);
        assert_same(2, $jwks->fetches(), 'the new kid was fetched');
        $made_up = with_header(access_token()['accessToken'], ['alg' => 'EdDSA', 'kid' => 'no-such-kid', 'typ' => 'at+jwt']);
        assert_throws(TokenInvalid::class, fn () => $v->verify($made_up), '(unknown_kid)');
        assert_throws(TokenInvalid::class, fn () => $v->verify($made_up), '(unknown_kid)');
        assert_same(2, $jwks->fetches(), 'made-up kids within the interval cost no fetch');
        $now += 10;
        assert_throws(TokenInvalid::class, fn () => $v->verify($made_up), '(unknown_kid)');
        assert_same(3, $jwks->fetches(), 'after the interval, one more');
    },
    'the JWKS file cache serves other processes and is ignored when others could write it' => function (): void {
        $file = temp_dir() . '/jwks.json';
        $token = access_token()['accessToken'];
        $first = Jwks::forService(sk_url(), cacheFile: $file);
        verifier(jwks: $first)->verify($token);
        assert_same(1, $first->fetches());
        assert_same('600', substr(sprintf('%o', fileperms($file)), -3));
        $second = Jwks::forService(sk_url(), cacheFile: $file);
        verifier(jwks: $second)->verify($token);
        assert_same(0, $second->fetches(), 'served from the file');
        chmod($file, 0666);
        $third = Jwks::forService(sk_url(), cacheFile: $file);
        verifier(jwks: $third)->verify($token);
        assert_same(1, $third->fetches(), 'a world-writable file is not trusted');
    },
    'keys that cannot be fetched fail closed' => function (): void {
        $token = access_token()['accessToken'];
        assert_throws(ServiceUnavailable::class, fn () => verifier(jwks: Jwks::forService(closed_port_url(), cacheFile: false, timeout: 2.0))->verify($token));
    },
];
