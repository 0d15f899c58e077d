<?php
/**
 * Sessionkit\SessionHandler: plain $_SESSION code over the real service, one simulated request
 * (a fresh handler, the previous response's session id as the cookie) at a time.
 */
declare(strict_types=1);

use Sessionkit\FileDataStore;
use Sessionkit\ServiceUnavailable;
use Sessionkit\SessionHandler;
use Sessionkit\SessionRevoked;
use Sessionkit\TokenException;

function token_of(string $sid): string
{
    $token = SessionHandler::decode($sid);
    assert_true($token !== null && str_starts_with($token, 'sk_'), 'the session id carries a service token');
    return $token;
}

/** Anonymous visit with a cart, then a login that keeps it: returns [store, sid, service session]. */
function logged_in(string $user): array
{
    $store = file_store();
    $sid = php_request(null, $store, function (): void { $_SESSION['cart'] = ['apple']; });
    $session = null;
    $sid = php_request($sid, $store, function (SessionHandler $h) use ($user, &$session): void {
        $session = $h->login($user, ['user'], keepSessionData: true);
        $_SESSION['user_name'] = 'Ada';
    });
    return [$store, $sid, $session];
}

return [
    'anonymous sessions keep their data locally, without the service' => function (): void {
        $store = file_store();
        $sid = php_request(null, $store, function (SessionHandler $h): void {
            assert_same(null, $h->session());
            $_SESSION['cart'] = ['apple'];
        });
        assert_true(preg_match('/^anon-[0-9a-f]{64}$/', $sid) === 1, 'an anonymous id');
        $again = php_request($sid, $store, function (SessionHandler $h): void {
            assert_same(['apple'], $_SESSION['cart'] ?? null);
            assert_same(null, $h->session());
        }, sk_client(closed_port_url()));
        assert_same($sid, $again);
    },
    'login creates a service session, replaces the anonymous id and keeps $_SESSION when asked to' => function (): void {
        $user = new_user();
        [$store, $sid, $session] = logged_in($user);
        assert_same($user, $session['userId']);
        $token = token_of($sid);
        assert_same($session['id'], sk_client()->validate($token)['id']);
        php_request($sid, $store, function (SessionHandler $h) use ($user): void {
            assert_same(['apple'], $_SESSION['cart']);
            assert_same('Ada', $_SESSION['user_name']);
            assert_same($user, $h->session()['userId']);
            assert_true(is_string($h->csrfToken()) && strlen($h->csrfToken()) > 20, 'the CSRF token of the session');
        });
    },
    'the session id is a valid PHP session id' => function (): void {
        [, $sid] = logged_in(new_user());
        assert_true(preg_match('/^[a-zA-Z0-9,-]{1,256}$/', $sid) === 1, 'PHP session-id alphabet');
        assert_same(SessionHandler::decode(SessionHandler::encode('sk_a-b_c.d_e')), 'sk_a-b_c.d_e');
        assert_same(null, SessionHandler::decode('sk,xbad'));
        assert_same(null, SessionHandler::decode('trailing,'));
    },
    'session_regenerate_id renews the token and keeps the same service session' => function (): void {
        [$store, $sid, $session] = logged_in(new_user());
        $renewed = php_request($sid, $store, function (): void {
            session_regenerate_id(true);
            $_SESSION['after'] = 'renewal';
        });
        assert_true($renewed !== $sid, 'a new session id');
        assert_same($session['id'], sk_client()->validate(token_of($renewed))['id']);
        // The suite's service has no renew grace: the old id is dead at once.
        assert_throws(TokenException::class, fn () => sk_client()->validate(token_of($sid)));
        php_request($renewed, $store, function (SessionHandler $h) use ($session): void {
            assert_same('renewal', $_SESSION['after']);
            assert_same(['apple'], $_SESSION['cart']);
            assert_same($session['id'], $h->session()['id']);
        });
    },
    'session_regenerate_id(false) renews too' => function (): void {
        [$store, $sid, $session] = logged_in(new_user());
        $renewed = php_request($sid, $store, function (): void { session_regenerate_id(false); });
        assert_same($session['id'], sk_client()->validate(token_of($renewed))['id']);
    },
    'an old session id after renewal starts a fresh anonymous session' => function (): void {
        [$store, $sid] = logged_in(new_user());
        php_request($sid, $store, function (): void { session_regenerate_id(true); });
        $fresh = php_request($sid, $store, function (SessionHandler $h): void {
            assert_same([], $_SESSION);
            assert_same(null, $h->session());
        });
        assert_true(str_starts_with($fresh, 'anon-'), 'strict mode never adopts a dead id');
    },
    'session_destroy revokes the service session' => function (): void {
        [$store, $sid, $session] = logged_in(new_user());
        php_request($sid, $store, function (): void { session_destroy(); });
        assert_throws(SessionRevoked::class, fn () => sk_client()->validate(token_of($sid)));
        assert_same(null, $store->read('s:' . $session['id']));
    },
    'a revocation elsewhere logs the PHP session out on its next request' => function (): void {
        [$store, $sid, $session] = logged_in(new_user());
        sk_client()->revoke($session['id']);
        $fresh = php_request($sid, $store, function (SessionHandler $h): void {
            assert_same(null, $h->session());
            assert_same([], $_SESSION);
        });
        assert_true($fresh !== $sid, 'a new id');
    },
    'logging in again revokes the previous service session (no fixation)' => function (): void {
        $user = new_user();
        [$store, $sid, $first] = logged_in($user);
        $second = null;
        $next = php_request($sid, $store, function (SessionHandler $h) use ($user, &$second): void { $second = $h->login($user); });
        assert_true($second['id'] !== $first['id'], 'a new service session');
        assert_throws(SessionRevoked::class, fn () => sk_client()->validate(token_of($sid)));
        assert_same($second['id'], sk_client()->validate(token_of($next))['id']);
    },
    'a made-up session id is never adopted' => function (): void {
        $store = file_store();
        $forged = SessionHandler::encode('sk_' . str_repeat('A', 43) . '.' . str_repeat('B', 43));
        $sid = php_request($forged, $store, function (SessionHandler $h): void { assert_same(null, $h->session()); });
        assert_true(str_starts_with($sid, 'anon-'), 'an anonymous id instead');
        $sid = php_request('anon-' . str_repeat('0', 64), $store, function (): void {});
        assert_true($sid !== 'anon-' . str_repeat('0', 64), 'an unknown anonymous id is not adopted either');
    },
    'an unreachable service fails closed: session_start throws' => function (): void {
        [$store, $sid] = logged_in(new_user());
        assert_throws(ServiceUnavailable::class, fn () => php_request($sid, $store, function (): void {
            throw new LogicException('the session must not start');
        }, sk_client(closed_port_url(), sk_key(), 2.0)));
    },
    'garbage collection follows the service expiry' => function (): void {
        $now = time();
        $clock = function () use (&$now): int { return $now; };
        $store = new FileDataStore(temp_dir(), Closure::fromCallable($clock));
        $options = ['clock' => Closure::fromCallable($clock), 'anonymousLifetime' => 60];
        $sid = php_request(null, $store, function (SessionHandler $h): void { $_SESSION['x'] = 1; }, null, $options);
        $session = null;
        $sid = php_request($sid, $store, function (SessionHandler $h) use (&$session): void { $session = $h->login(new_user()); }, null, $options);
        $anonymous = php_request(null, $store, function (): void { $_SESSION['y'] = 2; }, null, $options);
        $idle = (new DateTimeImmutable($session['idleExpiresAt']))->getTimestamp();
        $now += 61; // past the anonymous lifetime, well before the service's idle expiry
        assert_same(1, $store->gc($now));
        assert_same(null, $store->read('a:' . $anonymous));
        assert_true($store->read('s:' . $session['id']) !== null, 'the logged-in payload is kept');
        $now = $idle; // the service's idle expiry: the payload goes
        php_request($anonymous, $store, function (): void {
            assert_same(1, session_gc());
        }, null, $options);
        assert_same(null, $store->read('s:' . $session['id']));
    },
    'login needs an active session' => function (): void {
        $h = new SessionHandler(sk_client(), file_store());
        assert_throws(LogicException::class, fn () => $h->login('u'));
    },
];
