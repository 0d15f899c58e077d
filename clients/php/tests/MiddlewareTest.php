<?php
/** JwtMiddleware (and its PSR-15 wrapper) in front of a handler, with the service's real tokens. */
declare(strict_types=1);

require_once __DIR__ . '/psr-stubs.php';

use Psr\Http\Server\MiddlewareInterface;
use Sessionkit\Jwks;
use Sessionkit\JwtMiddleware;
use Sessionkit\JwtVerifier;
use Sessionkit\Psr15JwtMiddleware;
use Sessionkit\TokenMissing;
use SessionkitTest\Handler;
use SessionkitTest\Request;
use SessionkitTest\Response;

function jwt_middleware(?Closure $clock = null, ?string $cookieName = null, array $allowedOrigins = []): JwtMiddleware
{
    $verifier = new JwtVerifier(Jwks::forService(sk_url(), cacheFile: false), 'EdDSA', 'sessionkit', 'sessionkit', 5, $clock);
    return new JwtMiddleware($verifier, fn (int $status, array $headers, string $body) => new Response($status, $headers, $body), $cookieName, $allowedOrigins);
}

function jwt(): array
{
    return sk_client()->create(new_user(), ['editor'], tokenType: 'jwt');
}

return [
    'a valid bearer access token reaches the handler with its claims' => function (): void {
        $issued = jwt();
        $handler = new Handler();
        $response = jwt_middleware()->process(new Request('POST', ['Authorization' => 'Bearer ' . $issued['accessToken']]), $handler);
        assert_same(200, $response->getStatusCode());
        $claims = $handler->seen->getAttribute('sessionkit.claims');
        assert_same([$issued['session']['userId'], $issued['session']['id'], ['editor']], [$claims['sub'], $claims['sid'], $claims['roles']]);
    },
    'no token gets a 401 with the service error body' => function (): void {
        $handler = new Handler();
        $response = jwt_middleware()->process(new Request(), $handler);
        assert_same(401, $response->getStatusCode());
        assert_same('token_missing', $response->json()['error']);
        assert_same('Bearer error="invalid_token"', $response->getHeaderLine('WWW-Authenticate'));
        assert_same('no-store', $response->getHeaderLine('Cache-Control'));
        assert_same(null, $handler->seen);
    },
    'an expired token gets session_expired and a forged one token_invalid' => function (): void {
        $issued = jwt();
        $later = (new DateTimeImmutable($issued['accessTokenExpiresAt']))->getTimestamp() + 60;
        $response = jwt_middleware(fn (): int => $later)->process(new Request('GET', ['Authorization' => 'Bearer ' . $issued['accessToken']]), new Handler());
        assert_same([401, 'session_expired'], [$response->getStatusCode(), $response->json()['error']]);
        $response = jwt_middleware()->process(new Request('GET', ['Authorization' => 'Bearer ' . $issued['accessToken'] . 'x']), new Handler());
        assert_same([401, 'token_invalid'], [$response->getStatusCode(), $response->json()['error']]);
        assert_true(!str_contains($response->body, $issued['accessToken']), 'the body never echoes the token');
    },
    'the access-token cookie works for reads, and for writes only from the same origin' => function (): void {
        $token = jwt()['accessToken'];
        $mw = jwt_middleware(cookieName: 'sessionkit', allowedOrigins: ['https://app.example']);
        $cookie = ['sessionkit' => $token];
        assert_same(200, $mw->process(new Request('GET', [], $cookie), new Handler())->getStatusCode());
        $refused = $mw->process(new Request('POST', ['Sec-Fetch-Site' => 'cross-site', 'Origin' => 'https://evil.example'], $cookie), new Handler());
        assert_same([403, 'csrf_failed'], [$refused->getStatusCode(), $refused->json()['error']]);
        assert_same(403, $mw->process(new Request('POST', [], $cookie), new Handler())->getStatusCode());
        assert_same(200, $mw->process(new Request('POST', ['Sec-Fetch-Site' => 'same-origin'], $cookie), new Handler())->getStatusCode());
        assert_same(200, $mw->process(new Request('DELETE', ['Origin' => 'https://app.example'], $cookie), new Handler())->getStatusCode());
        $both = $mw->process(new Request('GET', ['Authorization' => "Bearer $token"], $cookie), new Handler());
        assert_same([400, 'invalid_request'], [$both->getStatusCode(), $both->json()['error']]);
        assert_same(401, jwt_middleware()->process(new Request('GET', [], $cookie), new Handler())->getStatusCode(), 'cookies are off unless named');
    },
    'the PSR-15 wrapper is a MiddlewareInterface' => function (): void {
        $mw = new Psr15JwtMiddleware(jwt_middleware());
        assert_true($mw instanceof MiddlewareInterface, 'implements PSR-15');
        assert_same(200, $mw->process(new Request('GET', ['Authorization' => 'Bearer ' . jwt()['accessToken']]), new Handler())->getStatusCode());
    },
    'plain PHP reads the globals' => function (): void {
        $token = jwt()['accessToken'];
        $saved = $_SERVER;
        try {
            $_SERVER['REQUEST_METHOD'] = 'GET';
            $_SERVER['HTTP_AUTHORIZATION'] = "Bearer $token";
            assert_same('sessionkit', jwt_middleware()->authenticateGlobals()['iss']);
            unset($_SERVER['HTTP_AUTHORIZATION']);
            assert_throws(TokenMissing::class, fn () => jwt_middleware()->authenticateGlobals());
        } finally {
            $_SERVER = $saved;
        }
    },
    'without a response factory the refusal is thrown' => function (): void {
        $verifier = new JwtVerifier(Jwks::forService(sk_url(), cacheFile: false));
        assert_throws(TokenMissing::class, fn () => (new JwtMiddleware($verifier))->process(new Request(), new Handler()));
    },
];
