<?php
/**
 * PSR-15-style middleware that admits a request only with a valid JWT access token of the
 * service, verified locally (JwtVerifier: JWKS, pinned algorithm). The claims go into the request
 * attribute `sessionkit.claims`; a refused request gets the service's JSON error body (401 with
 * `WWW-Authenticate: Bearer error="invalid_token"`, 403 for a cross-site cookie write, 503 when
 * the keys cannot be fetched).
 *
 * It needs no PSR package at run time: `process($request, $handler)` takes any PSR-7 server
 * request and PSR-15 handler, and a response factory builds the refusals (your framework's
 * PSR-17 factory, for example). With psr/http-server-middleware installed, wrap it in
 * Psr15JwtMiddleware to get a real `MiddlewareInterface`. Plain PHP uses
 * `authenticateGlobals()` and `send()`.
 *
 * The token comes from `Authorization: Bearer`; with `cookieName` set, also from the access-token
 * cookie, and then unsafe methods must prove they are same-origin (`Sec-Fetch-Site` same-origin
 * or none, or an `Origin` in `allowedOrigins`), as the CSRF token itself can only be checked by
 * the service.
 *
 * Example:
 *     $jwt = new Sessionkit\JwtMiddleware($verifier, fn (int $status, array $headers, string $body) =>
 *         new Response($status, $headers, $body));
 *     $response = $jwt->process($request, $handler);   // $request->getAttribute('sessionkit.claims')
 */
declare(strict_types=1);

namespace Sessionkit;

final class JwtMiddleware
{
    private const SAFE = ['GET' => true, 'HEAD' => true, 'OPTIONS' => true, 'TRACE' => true];

    /**
     * @param \Closure(int, array<string, string>, string): object $responseFactory builds a PSR-7 response
     */
    public function __construct(
        private readonly JwtVerifier $verifier,
        private readonly ?\Closure $responseFactory = null,
        private readonly ?string $cookieName = null,
        private readonly array $allowedOrigins = [],
        private readonly string $attribute = 'sessionkit.claims',
    ) {
    }

    /** PSR-15 `process`: the handler's response, or the refusal built by the response factory. */
    public function process(object $request, object $handler): object
    {
        try {
            $cookies = $this->cookieName !== null ? $request->getCookieParams() : [];
            $claims = $this->authenticate(
                $request->getMethod(),
                $request->getHeaderLine('Authorization') ?: null,
                $this->cookieName !== null && is_string($cookies[$this->cookieName] ?? null) ? $cookies[$this->cookieName] : null,
                $request->getHeaderLine('Origin') ?: null,
                $request->getHeaderLine('Sec-Fetch-Site') ?: null,
            );
        } catch (SessionkitException $e) {
            if ($this->responseFactory === null) {
                throw $e;
            }
            [$status, $headers, $body] = self::errorResponse($e);
            return ($this->responseFactory)($status, $headers, $body);
        }
        return $handler->handle($request->withAttribute($this->attribute, $claims));
    }

    /** The claims of the request's access token; throws the error to answer with. */
    public function authenticate(string $method, #[\SensitiveParameter] ?string $authorization,
        #[\SensitiveParameter] ?string $cookie = null, ?string $origin = null, ?string $fetchSite = null): array
    {
        $bearer = null;
        if ($authorization !== null && preg_match('/^\s*bearer(?:\s+(.*))?$/is', $authorization, $m) === 1) {
            $bearer = trim($m[1] ?? '');
            if ($bearer === '') {
                throw new TokenMalformed('Authorization: Bearer carries no token');
            }
        }
        $cookie = $cookie === '' ? null : $cookie;
        if ($bearer !== null && $cookie !== null) {
            throw new InvalidRequest('send the access token in the cookie or in Authorization: Bearer, not both');
        }
        $token = $bearer ?? $cookie;
        if ($token === null) {
            throw new TokenMissing('no access token: send Authorization: Bearer' . ($this->cookieName !== null ? ' or the session cookie' : ''));
        }
        $claims = $this->verifier->verify($token);
        if ($bearer === null && !isset(self::SAFE[strtoupper($method)]) && !$this->sameOrigin($origin, $fetchSite)) {
            throw new CsrfFailed('cross-site request refused: Origin / Sec-Fetch-Site is not an allowed origin');
        }
        return $claims;
    }

    /** authenticate() on the PHP request globals ($_SERVER, $_COOKIE). */
    public function authenticateGlobals(): array
    {
        $cookie = $this->cookieName !== null && is_string($_COOKIE[$this->cookieName] ?? null) ? $_COOKIE[$this->cookieName] : null;
        return $this->authenticate((string) ($_SERVER['REQUEST_METHOD'] ?? 'GET'), $_SERVER['HTTP_AUTHORIZATION'] ?? null,
            $cookie, $_SERVER['HTTP_ORIGIN'] ?? null, $_SERVER['HTTP_SEC_FETCH_SITE'] ?? null);
    }

    /** @return array{0: int, 1: array<string, string>, 2: string} status, headers and JSON body of a refusal */
    public static function errorResponse(SessionkitException $e): array
    {
        $status = $e->status > 0 ? $e->status : 503;
        $headers = ['Content-Type' => 'application/json; charset=utf-8', 'Cache-Control' => 'no-store'];
        if ($status === 401) {
            $headers['WWW-Authenticate'] = 'Bearer error="invalid_token"';
        }
        if ($e->retryAfter !== null) {
            $headers['Retry-After'] = (string) $e->retryAfter;
        }
        return [$status, $headers, (string) json_encode($e->toBody(), JSON_UNESCAPED_SLASHES)];
    }

    /** Answers a refusal in plain PHP (status, headers, JSON body). */
    public static function send(SessionkitException $e): void
    {
        [$status, $headers, $body] = self::errorResponse($e);
        http_response_code($status);
        foreach ($headers as $name => $value) {
            header("$name: $value");
        }
        echo $body;
    }

    private function sameOrigin(?string $origin, ?string $fetchSite): bool
    {
        $site = strtolower((string) $fetchSite);
        if ($site === 'same-origin' || $site === 'none') {
            return true;
        }
        return $origin !== null && in_array(rtrim($origin, '/'), array_map(static fn ($o) => rtrim((string) $o, '/'), $this->allowedOrigins), true);
    }
}
