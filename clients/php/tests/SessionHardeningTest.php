<?php
/**
 * Sessionkit\SessionHandler hardening (issue 22): a handler reused across requests forgets each
 * request's validation, the cookie is __Host- by default, login drops pre-login $_SESSION unless
 * asked to keep it, and the handler refuses to run without strict mode.
 */
declare(strict_types=1);

use Sessionkit\SessionHandler;

/** One request served by an already registered, long-lived handler (worker mode). */
function worker_request(SessionHandler $handler, ?string $sid, callable $body): string
{
    $_SESSION = [];
    session_id($sid ?? '');
    session_start();
    try {
        $body($handler);
        return session_id();
    } finally {
        session_write_close();
    }
}

return [
    'a handler reused across requests (worker mode) validates each request anew: a revoked session ends' => function (): void {
        $handler = new SessionHandler(sk_client(), file_store());
        SessionHandler::register($handler, false);
        $session = null;
        $sid = worker_request($handler, null, function (SessionHandler $h) use (&$session): void { $session = $h->login(new_user()); });
        assert_same(null, $handler->session(), 'nothing of the request is left once it closed');
        $again = worker_request($handler, $sid, function (SessionHandler $h) use ($session): void {
            assert_same($session['id'], $h->session()['id'] ?? null);
            $_SESSION['seen'] = true;
        });
        assert_same($sid, $again, 'the next request keeps its session id');
        sk_client()->revoke($session['id']);
        $after = worker_request($handler, $sid, function (SessionHandler $h): void {
            assert_same(null, $h->session(), 'the revoked session is not live');
            assert_same([], $_SESSION);
        });
        assert_true($after !== $sid, 'a new (anonymous) id');
    },
    'register names the cookie __Host-PHPSESSID, with Secure, Path=/ and no Domain' => function (): void {
        ini_set('session.cookie_domain', 'example.com');
        ini_set('session.cookie_path', '/app');
        SessionHandler::register(new SessionHandler(sk_client(), file_store()));
        assert_same('__Host-PHPSESSID', session_name());
        $params = session_get_cookie_params();
        assert_same([true, '/', '', true, 'Lax'], [$params['secure'], $params['path'], $params['domain'], $params['httponly'], $params['samesite']]);
        SessionHandler::register(new SessionHandler(sk_client(), file_store()), false);
        assert_same('PHPSESSID', session_name(), 'plain-HTTP development cannot use __Host-');
        SessionHandler::register(new SessionHandler(sk_client(), file_store()), true, 'myapp');
        assert_same('myapp', session_name());
    },
    'login drops what the anonymous session held, unless keeping it is asked for' => function (): void {
        $store = file_store();
        // An attacker prepares an anonymous session and plants its id in the victim's browser.
        $planted = php_request(null, $store, function (): void { $_SESSION['is_admin'] = true; });
        $sid = php_request($planted, $store, function (SessionHandler $h): void {
            $h->login(new_user());
            assert_same([], $_SESSION);
            $_SESSION['theme'] = 'dark';
        });
        php_request($sid, $store, function (): void { assert_same(['theme' => 'dark'], $_SESSION); });
        $cart = php_request(null, $store, function (): void { $_SESSION['cart'] = ['apple']; });
        $sid = php_request($cart, $store, function (SessionHandler $h): void { $h->login(new_user(), keepSessionData: true); });
        php_request($sid, $store, function (): void { assert_same(['apple'], $_SESSION['cart'] ?? null); });
    },
    'the handler refuses to start a session without strict mode, so an attacker-chosen id is never adopted' => function (): void {
        $chosen = 'anon-' . str_repeat('a', 64);
        $handler = new SessionHandler(sk_client(), file_store());
        session_set_save_handler($handler, true);
        ini_set('session.use_strict_mode', '0');
        try {
            session_id($chosen);
            assert_throws(LogicException::class, fn () => session_start(), 'register');
            assert_true(session_status() !== PHP_SESSION_ACTIVE || session_id() !== $chosen, 'the chosen id is not in use');
        } finally {
            if (session_status() === PHP_SESSION_ACTIVE) {
                session_abort();
            }
            ini_set('session.use_strict_mode', '1');
        }
    },
];
