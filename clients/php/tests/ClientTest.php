<?php
/** Sessionkit\Client against the real service: every call and every error class. */
declare(strict_types=1);

use Sessionkit\Client;
use Sessionkit\InvalidRequest;
use Sessionkit\RateLimited;
use Sessionkit\RefreshReused;
use Sessionkit\ServiceUnavailable;
use Sessionkit\SessionExpired;
use Sessionkit\SessionkitException;
use Sessionkit\SessionRevoked;
use Sessionkit\TokenException;
use Sessionkit\TokenInvalid;
use Sessionkit\TokenMalformed;
use Sessionkit\TokenMissing;

return [
    'creates and validates a session' => function (): void {
        $c = sk_client();
        $user = new_user();
        $issued = $c->create($user, ['user', 'admin'], ['userAgent' => 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0', 'ip' => '198.51.100.7'], ['plan' => 'pro']);
        assert_true(str_starts_with($issued['token'], 'sk_'), 'an opaque token');
        $session = $c->validate($issued['token']);
        assert_same($issued['session']['id'], $session['id']);
        assert_same($user, $session['userId']);
        assert_same(['user', 'admin'], $session['roles']);
        assert_same(['plan' => 'pro'], $session['data']);
        assert_same('Firefox', $session['device']['browser']);
        assert_same($issued['csrfToken'], $c->validation($issued['token'])['csrfToken']);
    },
    'an empty data object stays an object' => function (): void {
        $c = sk_client();
        $issued = $c->create(new_user(), data: []);
        assert_same([], $c->validate($issued['token'])['data']);
    },
    'a login that replaces a token revokes its session' => function (): void {
        $c = sk_client();
        $user = new_user();
        $first = $c->create($user);
        $second = $c->create($user, replaces: $first['token']);
        assert_throws(SessionRevoked::class, fn () => $c->validate($first['token']));
        assert_same($second['session']['id'], $c->validate($second['token'])['id']);
    },
    'renew rotates the token and keeps the session' => function (): void {
        $c = sk_client();
        $issued = $c->create(new_user());
        $renewed = $c->renew($issued['token']);
        assert_true($renewed['token'] !== $issued['token'], 'a new token');
        assert_same($issued['session']['id'], $c->validate($renewed['token'])['id']);
        assert_throws(TokenException::class, fn () => $c->validate($issued['token']));
    },
    'current, listMine, revokeOthers and logout act for the token owner' => function (): void {
        $c = sk_client();
        $user = new_user();
        $mine = $c->create($user);
        $other = $c->create($user);
        assert_same($mine['session']['id'], $c->current($mine['token'])['id']);
        $current = [];
        foreach ($c->listMine($mine['token']) as $s) { $current[$s['id']] = $s['current']; }
        // Compared by key: two sessions created in the same millisecond may list in either order.
        $expected = [$mine['session']['id'] => true, $other['session']['id'] => false];
        $seen = array_intersect_key($current, $expected);
        ksort($expected);
        ksort($seen);
        assert_same($expected, $seen);
        assert_same(1, $c->revokeOthers($mine['token']));
        assert_throws(SessionRevoked::class, fn () => $c->validate($other['token']));
        $c->logout($mine['token']);
        assert_throws(SessionRevoked::class, fn () => $c->validate($mine['token']));
    },
    'revokes one session by id and reports unknown ids' => function (): void {
        $c = sk_client();
        $issued = $c->create(new_user());
        assert_same(true, $c->revoke($issued['session']['id']));
        $e = assert_throws(SessionRevoked::class, fn () => $c->validate($issued['token']));
        assert_same(['session_revoked', 401, 401], [$e->errorCode, $e->status, $e->getCode()]);
        assert_same(false, $c->revoke($issued['session']['id']));
    },
    'lists and revokes all sessions of a user but one' => function (): void {
        $c = sk_client();
        $user = new_user() . '/odd id?#';
        $keep = $c->create($user);
        $c->create($user);
        $c->create($user);
        assert_same(3, count($c->list($user)));
        assert_same(2, $c->revokeAll($user, $keep['session']['id']));
        assert_same([$keep['session']['id']], array_column($c->list($user), 'id'));
        assert_same(1, $c->revokeAll($user));
    },
    'jwt sessions refresh, and a reused refresh token revokes the session' => function (): void {
        $c = sk_client();
        $issued = $c->create(new_user(), tokenType: 'jwt');
        assert_same($issued['session']['id'], $c->validate($issued['accessToken'])['id']);
        $refreshed = $c->refresh($issued['refreshToken']);
        assert_true($refreshed['refreshToken'] !== $issued['refreshToken'], 'a new refresh token');
        $e = assert_throws(RefreshReused::class, fn () => $c->refresh($issued['refreshToken']));
        assert_same(401, $e->status);
        assert_throws(SessionRevoked::class, fn () => $c->refresh($refreshed['refreshToken']));
    },
    'bad tokens throw their codes' => function (): void {
        $c = sk_client();
        $issued = $c->create(new_user());
        assert_throws(TokenMalformed::class, fn () => $c->validate('not a token'));
        assert_throws(TokenInvalid::class, fn () => $c->validate(explode('.', $issued['token'])[0] . '.' . str_repeat('A', 43)));
        assert_throws(TokenMissing::class, fn () => $c->validate(''));
        assert_throws(TokenMalformed::class, fn () => $c->renew(str_repeat('x', 5000)));
        assert_throws(TokenMalformed::class, fn () => $c->renew("a\r\nX-Injected: 1"));
    },
    'a wrong API key is refused and a missing one never leaves the process' => function (): void {
        $e = assert_throws(TokenInvalid::class, fn () => sk_client(key: 'ska_' . str_repeat('A', 22) . '.' . str_repeat('B', 43))->create(new_user()));
        assert_true($e->requestId !== null, 'the request id is kept');
        $missing = assert_throws(SessionkitException::class, fn () => (new Client(sk_url()))->create(new_user()));
        assert_same('api_key_missing', $missing->errorCode);
        assert_true(!str_contains(print_r(sk_client(), true), sk_key()), 'print_r never shows the key');
        assert_true(!str_contains(var_export(sk_client()->__debugInfo(), true), sk_key()), 'debug info never shows the key');
    },
    'an unreachable service throws ServiceUnavailable' => function (): void {
        $e = assert_throws(ServiceUnavailable::class, fn () => sk_client(closed_port_url(), 'k', 2.0)->validate('sk_a.b'));
        assert_same(['service_unavailable', 503], [$e->errorCode, $e->status]);
    },
    'a service that never answers times out' => function (): void {
        $server = stream_socket_server('tcp://127.0.0.1:0');
        try {
            assert_throws(ServiceUnavailable::class, fn () => sk_client('http://' . stream_socket_get_name($server, false), 'k', 0.3)->validate('sk_a.b'));
        } finally {
            fclose($server);
        }
    },
    'exceptions and their traces never carry the token' => function (): void {
        $c = sk_client();
        $issued = $c->create(new_user());
        $c->revoke($issued['session']['id']);
        $secret = explode('.', $issued['token'])[1];
        // Production php.ini drops arguments from traces; development settings keep them: test those.
        $restore = [ini_set('zend.exception_ignore_args', '0'), ini_set('zend.exception_string_param_max_len', '1000000')];
        assert_true($restore[0] !== false && $restore[1] !== false, 'trace settings can be changed');
        try {
        foreach (['validate', 'renew', 'current', 'logout'] as $method) {
            $e = assert_throws(SessionkitException::class, fn () => $c->$method($issued['token']));
            // The library's own frames (the test's closures hold the token in their variables).
            $ours = array_filter($e->getTrace(), static fn (array $f): bool => str_starts_with($f['class'] ?? '', 'Sessionkit\\'));
            assert_true($ours !== [], 'the trace has the client\'s frames');
            $text = $e->getMessage() . print_r(array_map(static fn (array $f) => $f['args'] ?? [], $ours), true)
                . implode("\n", array_filter(explode("\n", (string) $e), static fn (string $l): bool => str_contains($l, 'Sessionkit\\')));
            if (PHP_VERSION_ID >= 80200) {
                assert_true(!str_contains($text, $secret), "$method: no token in the exception or its trace");
            } else {
                assert_true(!str_contains($e->getMessage(), $secret), "$method: no token in the message");
            }
        }
        } finally {
            ini_set('zend.exception_ignore_args', (string) $restore[0]);
            ini_set('zend.exception_string_param_max_len', (string) $restore[1]);
        }
    },
    'error answers map to their classes' => function (): void {
        $expired = SessionkitException::fromResponse(401, ['error' => 'session_expired', 'message' => 'idle'], 'rid');
        assert_true($expired instanceof SessionExpired && $expired instanceof TokenException, 'SessionExpired is a TokenException');
        assert_same(['session_expired', 'idle', 'rid'], [$expired->errorCode, $expired->getMessage(), $expired->requestId]);
        $limited = SessionkitException::fromResponse(429, ['error' => 'rate_limited', 'message' => 'slow'], null, '12');
        assert_true($limited instanceof RateLimited, 'RateLimited');
        assert_same(12, $limited->retryAfter);
        assert_true(SessionkitException::fromResponse(400, ['error' => 'invalid_request', 'message' => 'm']) instanceof InvalidRequest, 'InvalidRequest');
        $unknown = SessionkitException::fromResponse(401, ['error' => 'brand_new', 'message' => 'm']);
        assert_true($unknown instanceof TokenException && $unknown->errorCode === 'brand_new', 'unknown 401 codes stay token errors');
        assert_true(SessionkitException::fromResponse(502, null) instanceof ServiceUnavailable, 'no body: ServiceUnavailable');
    },
    'options are checked at construction' => function (): void {
        assert_throws(InvalidArgumentException::class, fn () => new Client('ftp://example.com'));
        assert_throws(InvalidArgumentException::class, fn () => new Client(sk_url(), 'k', 0.0));
    },
];
