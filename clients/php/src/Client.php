<?php
/**
 * The HTTP client of the sessionkit service (docs/API.md) over cURL.
 *
 * Backend calls (create, validate, reauthenticate, revoke, revokeAll, list) send the API key; calls made for an
 * end user (current, renew, logout, listMine, revokeOthers) send the user's token as Bearer;
 * refresh sends the refresh token in the body. Answers are the service's JSON as arrays; errors
 * throw the exception of their code (Errors.php); a service that cannot be reached or times out
 * throws ServiceUnavailable. Token and key parameters are #[\SensitiveParameter] (PHP 8.2+), so
 * they never show in stack traces either.
 *
 * Example:
 *     $client = new Sessionkit\Client('http://127.0.0.1:8080', getenv('SESSIONKIT_API_KEY'));
 *     $issued = $client->create('u1', roles: ['user']);
 *     $session = $client->validate($issued['token']);
 *     // sudo mode: throws ReauthenticationRequired ($e->maxAge, $e->methods) when stale
 *     $client->validate($token, ['maxAge' => 300, 'methods' => ['totp']]);
 */
declare(strict_types=1);

namespace Sessionkit;

final class Client
{
    private const MAX_TOKEN = 4096;
    /** The base URL as it may be shown: without `user:password@` (the real one is Hidden, with the API key). */
    private readonly string $baseUrl;

    /**
     * @param float $timeout seconds for the whole request (the connection gets the same bound)
     * @param bool $allowPlainHttp no warning for http:// to a host that is not loopback
     */
    public function __construct(
        #[\SensitiveParameter] string $baseUrl,
        #[\SensitiveParameter] ?string $apiKey = null,
        private readonly float $timeout = 5.0,
        private readonly string $userAgent = 'sessionkit-php/0.1',
        bool $allowPlainHttp = false,
    ) {
        $parts = parse_url($baseUrl);
        if ($parts === false || !in_array($parts['scheme'] ?? '', ['http', 'https'], true) || ($parts['host'] ?? '') === '') {
            throw new \InvalidArgumentException('baseUrl must be an http(s) URL such as http://127.0.0.1:8080');
        }
        if ($timeout <= 0) {
            throw new \InvalidArgumentException('timeout must be > 0 seconds');
        }
        if (!function_exists('curl_init')) {
            throw new \LogicException('the sessionkit client needs the curl extension (apt-get install php-curl)');
        }
        if (!$allowPlainHttp) {
            Urls::warnIfPlainHttp($baseUrl, 'the session service URL');
        }
        $this->baseUrl = rtrim(Urls::redact($baseUrl), '/');
        // Out of reach of var_export(), print_r(), var_dump() and serialize() of this object.
        Hidden::set($this, ['url' => rtrim($baseUrl, '/'), 'apiKey' => $apiKey]);
    }

    public function __debugInfo(): array
    {
        return ['baseUrl' => $this->baseUrl, 'apiKey' => $this->secret('apiKey') === null ? null : 'set', 'timeout' => $this->timeout];
    }

    private function secret(string $name): ?string
    {
        return Hidden::get($this)[$name] ?? null;
    }

    public function baseUrl(): string
    {
        return $this->baseUrl;
    }

    /**
     * Creates a session for a user the app has authenticated: `{session, token, expiresAt,
     * csrfToken}`, or with $tokenType 'jwt' `{session, accessToken, refreshToken,
     * accessTokenExpiresAt, expiresAt, csrfToken}`. $replaces: the token this login replaces
     * (revoked: no session fixation).
     */
    public function create(string $userId, ?array $roles = null, ?array $device = null, ?array $data = null,
        #[\SensitiveParameter] ?string $replaces = null, string $tokenType = 'opaque'): array
    {
        $body = ['userId' => $userId, 'tokenType' => $tokenType];
        if ($roles !== null) { $body['roles'] = array_values($roles); }
        if ($device !== null) { $body['device'] = $device; }
        if ($data !== null) { $body['data'] = (object) $data; }
        if ($replaces !== null) { $body['replaces'] = $replaces; }
        return self::sessionAnswer($this->call('POST', '/v1/sessions', $body, apiKey: true), $tokenType === 'jwt' ? 'accessToken' : 'token');
    }

    /**
     * The session of an opaque token or JWT access token (slides its idle expiry), with
     * `authenticatedAt`, `authMethods` and `fresh`. $recentAuth `['maxAge' => seconds, 'methods'
     * => [...]]` (both optional; maxAge defaults to the service's SESSIONKIT_REAUTH_MAX_AGE):
     * a live session whose last authentication does not meet it throws ReauthenticationRequired.
     */
    public function validate(#[\SensitiveParameter] string $token, ?array $recentAuth = null): array
    {
        return $this->validation($token, $recentAuth)['session'];
    }

    /** The whole validation answer: `{session, csrfToken}`; $recentAuth as for validate(). */
    public function validation(#[\SensitiveParameter] string $token, ?array $recentAuth = null): array
    {
        self::checkToken($token);
        $body = ['token' => $token];
        if ($recentAuth !== null) {
            $body['recentAuth'] = self::recentAuth($recentAuth);
        }
        return self::sessionAnswer($this->call('POST', '/v1/sessions/validate', $body, apiKey: true), null);
    }

    /**
     * Records that the app just re-checked the user of $token (password, second factor): the
     * session's `authenticatedAt` becomes now and `authMethods` $methods, and its token rotates
     * (the old one works for the service's renew grace only). Returns `{session, token,
     * expiresAt, csrfToken}`, or for a JWT session ($token is its access token) `{session,
     * accessToken, refreshToken, accessTokenExpiresAt, expiresAt, csrfToken}`.
     *
     * @param list<string> $methods e.g. ['password', 'totp']
     */
    public function reauthenticate(#[\SensitiveParameter] string $token, array $methods): array
    {
        self::checkToken($token);
        if ($methods === [] || !array_is_list($methods) || array_filter($methods, 'is_string') !== $methods) {
            throw new \InvalidArgumentException("methods must be a non-empty list such as ['password', 'totp']");
        }
        return $this->call('POST', '/v1/sessions/current/reauthenticate', ['token' => $token, 'methods' => $methods], apiKey: true);
    }

    /** Revokes one session by id; false when no live session has that id. */
    public function revoke(string $sessionId): bool
    {
        try {
            $this->call('DELETE', '/v1/sessions/' . self::segment($sessionId), apiKey: true);
            return true;
        } catch (SessionkitException $e) {
            if ($e->status === 404) {
                return false;
            }
            throw $e;
        }
    }

    /** Revokes every session of a user but $exceptSession; the number revoked. */
    public function revokeAll(string $userId, ?string $exceptSession = null): int
    {
        $query = $exceptSession !== null ? '?except=' . rawurlencode($exceptSession) : '';
        return (int) $this->call('DELETE', '/v1/users/' . self::segment($userId) . '/sessions' . $query, apiKey: true)['revoked'];
    }

    /** A user's live sessions (devices). */
    public function list(string $userId): array
    {
        return $this->call('GET', '/v1/users/' . self::segment($userId) . '/sessions', apiKey: true)['sessions'];
    }

    /** The service's public signing keys (JWKS). */
    public function jwks(): array
    {
        return $this->call('GET', '/.well-known/jwks.json');
    }

    /** Makes a new signing key active (API key `admin`); older keys verify until their tokens expire. Returns its kid. */
    public function rotateKeys(): string
    {
        return (string) $this->call('POST', '/v1/keys/rotate', apiKey: true)['kid'];
    }

    /** The session of $token as its owner sees it (who am I). */
    public function current(#[\SensitiveParameter] string $token): array
    {
        return $this->call('GET', '/v1/sessions/current', bearer: $token)['session'];
    }

    /** Rotates the token: `{session, token, expiresAt, csrfToken}`; the old one dies after a short grace. */
    public function renew(#[\SensitiveParameter] string $token): array
    {
        return self::sessionAnswer($this->call('POST', '/v1/sessions/current/renew', bearer: $token), 'token');
    }

    /** Rotates a refresh token: a new access token and refresh token (a reused one throws RefreshReused). */
    public function refresh(#[\SensitiveParameter] string $refreshToken): array
    {
        self::checkToken($refreshToken);
        return $this->call('POST', '/v1/sessions/refresh', ['refreshToken' => $refreshToken]);
    }

    /** Revokes the session of $token (logout). */
    public function logout(#[\SensitiveParameter] string $token): void
    {
        $this->call('DELETE', '/v1/sessions/current', bearer: $token);
    }

    /** The sessions of the token's user on all devices (`current` marks this one). */
    public function listMine(#[\SensitiveParameter] string $token): array
    {
        return $this->call('GET', '/v1/sessions', bearer: $token)['sessions'];
    }

    /** Logs the token's user out of every other device; the number revoked. */
    public function revokeOthers(#[\SensitiveParameter] string $token): int
    {
        return (int) $this->call('DELETE', '/v1/sessions?others=true', bearer: $token)['revoked'];
    }

    /**
     * A 2xx answer that must carry a session (and $credential, a token field): anything else
     * (empty, null, {}, {"session": null}, a session without an id) fails closed instead of
     * reaching the app as a session.
     */
    private static function sessionAnswer(mixed $answer, ?string $credential): array
    {
        $session = is_array($answer) ? ($answer['session'] ?? null) : null;
        if (!is_array($session) || !is_string($session['id'] ?? null) || $session['id'] === '' || !is_string($session['userId'] ?? null)
            || ($credential !== null && !is_string($answer[$credential] ?? null))) {
            throw new ServiceUnavailable('the service answered without a session', null, 502);
        }
        return $answer;
    }

    private static function checkToken(#[\SensitiveParameter] string $token): void
    {
        if ($token === '') {
            throw new TokenMissing('no token given');
        }
        if (strlen($token) > self::MAX_TOKEN || strpbrk($token, "\r\n\0") !== false) {
            throw new TokenMalformed('the session token is not well-formed');
        }
    }

    /** The service's `recentAuth` object; a typo fails here, not as a 400 on the first request. */
    private static function recentAuth(array $recentAuth): object
    {
        $unknown = array_diff(array_keys($recentAuth), ['maxAge', 'methods']);
        if ($unknown !== []) {
            throw new \InvalidArgumentException('recentAuth takes maxAge and methods, not ' . implode(', ', $unknown));
        }
        $out = [];
        if (isset($recentAuth['maxAge'])) {
            $maxAge = $recentAuth['maxAge'];
            if (!is_int($maxAge) || $maxAge < 1 || $maxAge > 31_536_000) {
                throw new \InvalidArgumentException('recentAuth maxAge must be whole seconds between 1 and 31536000');
            }
            $out['maxAge'] = $maxAge;
        }
        if (isset($recentAuth['methods'])) {
            $methods = $recentAuth['methods'];
            if (!is_array($methods) || !array_is_list($methods) || array_filter($methods, 'is_string') !== $methods) {
                throw new \InvalidArgumentException("recentAuth methods must be a list such as ['totp']");
            }
            if ($methods !== []) {
                $out['methods'] = $methods;
            }
        }
        // An object even when empty: the service expects {} (the default requirement), not [].
        return (object) $out;
    }

    private static function segment(string $value): string
    {
        if ($value === '') {
            throw new \InvalidArgumentException('an id must be a non-empty string');
        }
        return rawurlencode($value);
    }

    /** One request; returns the decoded JSON (null for 204) or throws. */
    private function call(string $method, string $path, #[\SensitiveParameter] ?array $body = null, bool $apiKey = false,
        #[\SensitiveParameter] ?string $bearer = null): mixed
    {
        $headers = ['Accept: application/json', 'User-Agent: ' . $this->userAgent, 'Expect:'];
        if ($body !== null) {
            $headers[] = 'Content-Type: application/json';
        }
        if ($apiKey) {
            $key = $this->secret('apiKey');
            if ($key === null || $key === '') {
                throw new SessionkitException('this call needs an API key (new Client($url, $apiKey))', 'api_key_missing');
            }
            $headers[] = 'X-API-Key: ' . $key;
        }
        if ($bearer !== null) {
            self::checkToken($bearer);
            $headers[] = 'Authorization: Bearer ' . $bearer;
        }
        $responseHeaders = [];
        $url = (string) $this->secret('url');
        $curl = curl_init($url . $path);
        $ms = (int) ceil($this->timeout * 1000);
        curl_setopt_array($curl, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT_MS => $ms,
            CURLOPT_CONNECTTIMEOUT_MS => $ms,
            CURLOPT_NOSIGNAL => true,
            // The service never redirects, and the API key must reach it and nothing else:
            // no redirects, no proxy from the environment.
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_PROXY => '',
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
            CURLOPT_HEADERFUNCTION => static function ($_, string $line) use (&$responseHeaders): int {
                $colon = strpos($line, ':');
                if ($colon !== false) {
                    $responseHeaders[strtolower(trim(substr($line, 0, $colon)))] = trim(substr($line, $colon + 1));
                }
                return strlen($line);
            },
        ]);
        if ($body !== null) {
            curl_setopt($curl, CURLOPT_POSTFIELDS, json_encode($body, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES));
        }
        $raw = curl_exec($curl);
        $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        $error = curl_error($curl);
        curl_close($curl);
        if ($raw === false || $status === 0) {
            throw new ServiceUnavailable(Urls::scrub("the session service at {$this->baseUrl} could not be reached: $error", $url));
        }
        $requestId = $responseHeaders['x-request-id'] ?? null;
        $decoded = null;
        if ($raw !== '') {
            try {
                $decoded = json_decode((string) $raw, true, 64, JSON_THROW_ON_ERROR);
            } catch (\JsonException) {
                $decoded = null;
                if ($status < 400) {
                    throw new ServiceUnavailable("the service answered HTTP $status with a body that is not JSON", null, 502, $requestId);
                }
            }
        }
        if ($status >= 400) {
            throw SessionkitException::fromResponse($status, $decoded, $requestId, $responseHeaders['retry-after'] ?? null);
        }
        // Only a 2xx is an answer: the service never redirects, so a 3xx (even with a JSON body
        // that looks like a session) is something else speaking for it.
        if ($status < 200 || $status >= 300) {
            throw new ServiceUnavailable("the service answered HTTP $status, which it never does (redirects are not followed)", null, 502, $requestId);
        }
        return $decoded;
    }
}
