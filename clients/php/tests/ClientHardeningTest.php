<?php
/**
 * Sessionkit\Client hardening (issue 22, low 8): a warning for plain http:// to a host that is not
 * loopback; no URL password, API key or token in error messages or in var_export / print_r /
 * var_dump / serialize output; only a 2xx answer counts as an answer.
 */
declare(strict_types=1);

use Sessionkit\Client;
use Sessionkit\Jwks;
use Sessionkit\ServiceUnavailable;
use Sessionkit\SessionHandler;

/** The E_USER_WARNING messages $fn triggers. */
function warnings_of(callable $fn): array
{
    $seen = [];
    set_error_handler(static function (int $severity, string $message) use (&$seen): bool {
        if ($severity === E_USER_WARNING) {
            $seen[] = $message;
            return true;
        }
        return false;
    });
    try {
        $fn();
    } finally {
        restore_error_handler();
    }
    return $seen;
}

/** Everything PHP can print of $value. */
function every_dump(mixed $value): string
{
    ob_start();
    var_dump($value);
    $dumped = (string) ob_get_clean();
    try {
        $serialized = serialize($value);
    } catch (Throwable $e) {
        $serialized = get_class($e); // e.g. closures inside: nothing serialized at all
    }
    return var_export($value, true) . print_r($value, true) . $dumped . $serialized . json_encode($value) . print_r((array) $value, true);
}

/** A server that answers every request with a redirect whose JSON body looks like a live session. */
function redirecting_service(): string
{
    return php_server(<<<'PHP'
<?php
http_response_code(302);
header('Location: https://elsewhere.example/');
header('Content-Type: application/json');
echo json_encode([
    'session' => ['id' => 's1', 'userId' => 'admin', 'roles' => ['admin'], 'idleExpiresAt' => '2099-01-01T00:00:00Z', 'absoluteExpiresAt' => '2099-01-01T00:00:00Z'],
    'csrfToken' => 'c', 'token' => 'sk_' . str_repeat('A', 43) . '.' . str_repeat('B', 43), 'expiresAt' => '2099-01-01T00:00:00Z',
]);
PHP);
}

return [
    'warns once about plain http:// to a host that is not loopback, never for loopback or https' => function (): void {
        $host = 'sessions-' . bin2hex(random_bytes(4)) . '.example.test';
        $seen = warnings_of(function () use ($host): void {
            new Client("http://$host:8080", 'k');
            new Client("http://$host:8080", 'k'); // once per origin and process
        });
        assert_same(1, count($seen), 'one warning: ' . implode(' | ', $seen));
        assert_true(str_contains($seen[0], 'plain http://') && str_contains($seen[0], $host), $seen[0]);
        assert_same([], warnings_of(function (): void {
            foreach (['http://127.0.0.1:1', 'http://127.9.9.9:1', 'http://localhost:1', 'http://app.localhost:1', 'http://[::1]:1', 'https://sessions.example.test'] as $url) {
                new Client($url, 'k');
            }
            new Client('http://other-' . bin2hex(random_bytes(4)) . '.example.test', 'k', allowPlainHttp: true);
        }));
        $jwks = warnings_of(fn () => new Jwks('http://jwks-' . bin2hex(random_bytes(4)) . '.example.test/.well-known/jwks.json', cacheFile: false));
        assert_same(1, count($jwks), 'the JWKS URL too');
    },
    'keeps URL passwords and API keys out of error messages and of var_export, print_r, var_dump and serialize' => function (): void {
        $closed = substr(closed_port_url(), strlen('http://'));
        $client = new Client("http://app:pa55word-xyz@$closed", 'ska_secret-key-value-123', 2.0);
        $dump = every_dump($client);
        assert_true(!str_contains($dump, 'pa55word-xyz') && !str_contains($dump, 'ska_secret-key-value-123'), "no secret in: $dump");
        $e = assert_throws(ServiceUnavailable::class, fn () => $client->validate('sk_a.b'));
        assert_true(!str_contains($e->getMessage(), 'pa55word-xyz') && !str_contains((string) $e, 'ska_secret'), $e->getMessage());
        $jwks = new Jwks("http://app:pa55word-xyz@$closed/.well-known/jwks.json", cacheFile: false, timeout: 2.0);
        assert_true(!str_contains(every_dump($jwks), 'pa55word-xyz'), 'no password in the JWKS dump');
        $e = assert_throws(ServiceUnavailable::class, fn () => $jwks->key('k'));
        assert_true(!str_contains($e->getMessage(), 'pa55word-xyz'), $e->getMessage());
    },
    'keeps session tokens and CSRF tokens out of var_export, print_r and var_dump of the session handler' => function (): void {
        [$store, $sid] = logged_in(new_user());
        php_request($sid, $store, function (SessionHandler $h) use ($sid): void {
            $token = SessionHandler::decode($sid);
            $csrf = (string) $h->csrfToken();
            $dump = every_dump($h);
            foreach ([$sid, (string) $token, substr((string) $token, strpos((string) $token, '.') + 1), $csrf] as $secret) {
                assert_true(!str_contains($dump, $secret), "a token or CSRF token in the dump: $dump");
            }
        });
    },
    'fails closed on a 2xx answer without a session: empty, null, {}, {"session": null}, {"session": {}}' => function (): void {
        $service = php_server(<<<'PHP'
<?php
$bodies = ['', 'null', '{}', 'false', '0', '{"session":null}', '{"session":{}}', '{"session":{"id":"s1","userId":"u1"}}'];
http_response_code(200);
header('Content-Type: application/json');
// The first path segment picks the body: a client with base URL <server>/3 gets 'false'.
echo $bodies[(int) explode('/', $_SERVER['REQUEST_URI'])[1]] ?? '';
PHP);
        for ($i = 0; $i < 7; $i++) {
            $client = new Client("$service/$i", 'k');
            assert_throws(ServiceUnavailable::class, fn () => $client->validate('sk_a.b'), 'without a session');
            assert_throws(ServiceUnavailable::class, fn () => $client->create('u1'), 'without a session');
        }
        // A session with no token where one is due (a login) fails closed too.
        assert_throws(ServiceUnavailable::class, fn () => (new Client("$service/7", 'k'))->create('u1'), 'without a session');
        $planted = SessionHandler::encode('sk_' . str_repeat('C', 43) . '.' . str_repeat('D', 43));
        assert_throws(ServiceUnavailable::class, fn () => php_request($planted, file_store(), function (): void {
            throw new LogicException('an empty answer must not start a session');
        }, new Client("$service/2", 'k')));
    },
    'treats a 3xx answer as an error, even with a JSON body that looks like a session' => function (): void {
        $client = new Client(redirecting_service(), 'k');
        assert_throws(ServiceUnavailable::class, fn () => $client->validate('sk_a.b'), 'HTTP 302');
        assert_throws(ServiceUnavailable::class, fn () => $client->create('u1'), 'HTTP 302');
        $planted = SessionHandler::encode('sk_' . str_repeat('C', 43) . '.' . str_repeat('D', 43));
        assert_throws(ServiceUnavailable::class, fn () => php_request($planted, file_store(), function (): void {
            throw new LogicException('a redirect must not log anyone in');
        }, $client));
    },
];
