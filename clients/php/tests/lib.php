<?php
/** Assertions and set-up shared by the PHP tests. */
declare(strict_types=1);

use Sessionkit\Client;
use Sessionkit\DataStore;
use Sessionkit\FileDataStore;
use Sessionkit\SessionHandler;

function env_required(string $name): string
{
    $value = getenv($name);
    if ($value === false || $value === '') {
        throw new RuntimeException("$name is not set: run the PHP suite through `npx vitest run test/clients` (or npm test)");
    }
    return $value;
}

function sk_url(): string { return env_required('SESSIONKIT_URL'); }
function sk_key(): string { return env_required('SESSIONKIT_API_KEY'); }
function sk_client(?string $url = null, ?string $key = null, float $timeout = 5.0): Client
{
    return new Client($url ?? sk_url(), $key ?? sk_key(), $timeout);
}
function new_user(): string { return 'php-' . bin2hex(random_bytes(12)); }

function temp_dir(): string
{
    $dir = sys_get_temp_dir() . '/sessionkit-php-test-' . bin2hex(random_bytes(8));
    mkdir($dir, 0700);
    register_shutdown_function(static function () use ($dir): void {
        foreach (glob("$dir/*") ?: [] as $f) { @unlink($f); }
        @rmdir($dir);
    });
    return $dir;
}

/** The URL of a local port nothing listens on. */
function closed_port_url(): string
{
    $server = stream_socket_server('tcp://127.0.0.1:0');
    $name = stream_socket_get_name($server, false);
    fclose($server);
    return 'http://' . $name;
}

function assert_true(bool $condition, string $what = 'expected true'): void
{
    if (!$condition) { throw new RuntimeException("assertion failed: $what"); }
}

function assert_same(mixed $expected, mixed $actual, string $what = ''): void
{
    if ($expected !== $actual) {
        throw new RuntimeException('assertion failed' . ($what !== '' ? " ($what)" : '') . ': expected ' . var_export($expected, true) . ', got ' . var_export($actual, true));
    }
}

/** Runs $fn and returns the exception it must throw (of $class). */
function assert_throws(string $class, callable $fn, ?string $messagePart = null): Throwable
{
    try {
        $fn();
    } catch (Throwable $e) {
        if (!$e instanceof $class) {
            throw new RuntimeException("expected $class, got " . get_class($e) . ': ' . $e->getMessage(), 0, $e);
        }
        if ($messagePart !== null && !str_contains($e->getMessage(), $messagePart)) {
            throw new RuntimeException("expected a message containing '$messagePart', got '" . $e->getMessage() . "'");
        }
        return $e;
    }
    throw new RuntimeException("expected $class, nothing was thrown");
}

/**
 * One PHP "request" with the sessionkit handler: a fresh handler (as each FPM request has),
 * the given session cookie (or none), $body inside the started session; returns the session id
 * the response would set (empty after session_destroy()).
 */
function php_request(?string $sid, DataStore $store, callable $body, ?Client $client = null, array $options = []): string
{
    $_SESSION = [];
    $handler = new SessionHandler($client ?? sk_client(), $store, $options);
    SessionHandler::register($handler, false);
    session_id($sid ?? '');
    session_start();
    try {
        $body($handler);
        $id = session_id();
    } finally {
        if (session_status() === PHP_SESSION_ACTIVE) {
            session_write_close();
        }
    }
    return $id;
}

function file_store(?Closure $clock = null): FileDataStore
{
    return new FileDataStore(temp_dir(), $clock);
}

/**
 * A `php -S` server on a free port running $routerCode (a PHP script's text); returns its URL
 * and stops it when the test process exits.
 */
function php_server(string $routerCode): string
{
    $dir = temp_dir();
    file_put_contents("$dir/router.php", $routerCode);
    $server = stream_socket_server('tcp://127.0.0.1:0');
    $address = stream_socket_get_name($server, false);
    fclose($server);
    $process = proc_open([PHP_BINARY, '-S', $address, "$dir/router.php"], [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
    register_shutdown_function(static function () use ($process): void {
        proc_terminate($process);
        proc_close($process);
    });
    for ($i = 0; $i < 200; $i++) {
        $probe = @stream_socket_client("tcp://$address", $errno, $errstr, 0.2);
        if ($probe !== false) {
            fclose($probe);
            return "http://$address";
        }
        usleep(25_000);
    }
    throw new RuntimeException("php -S did not start on $address");
}
