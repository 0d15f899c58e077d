<?php
/**
 * The PHP client's test runner (no PHPUnit): runs every closure returned by tests/*Test.php
 * against the real service named by SESSIONKIT_URL / SESSIONKIT_API_KEY (and the ES256 / RS256
 * services of SESSIONKIT_ES256_URL / SESSIONKIT_RS256_URL), prints one line per test and exits 1
 * if any failed. `php clients/php/tests/run.php [filter]` runs the tests whose name contains filter.
 *
 * Results are written with fwrite, never echo: PHP's session functions refuse to start once
 * anything was output, and the session handler tests start real sessions.
 */
declare(strict_types=1);

require __DIR__ . '/../autoload.php';
require __DIR__ . '/lib.php';

// Every notice or warning fails its test, except those silenced with @ (as well-behaved
// application error handlers do).
set_error_handler(static function (int $severity, string $message, string $file, int $line): bool {
    if ((error_reporting() & $severity) === 0) {
        return false;
    }
    throw new ErrorException($message, 0, $severity, $file, $line);
});

$filter = $argv[1] ?? '';
$tests = [];
// Each file is required in its own scope, so its variables never touch the runner's.
$load = static fn (string $file): array => require $file;
foreach (glob(__DIR__ . '/*Test.php') ?: [] as $file) {
    foreach ($load($file) as $name => $test) {
        $full = basename($file, '.php') . ': ' . $name;
        if ($filter === '' || str_contains($full, $filter)) {
            $tests[$full] = $test;
        }
    }
}

$failed = 0;
foreach ($tests as $name => $test) {
    try {
        $test();
        fwrite(STDOUT, "ok - $name\n");
    } catch (Throwable $e) {
        $failed++;
        fwrite(STDOUT, "not ok - $name\n    " . get_class($e) . ': ' . $e->getMessage() . "\n    at " . $e->getFile() . ':' . $e->getLine() . "\n");
    } finally {
        if (session_status() === PHP_SESSION_ACTIVE) {
            session_abort();
        }
    }
}
fwrite(STDOUT, sprintf("\n%d passed, %d failed\n", count($tests) - $failed, $failed));
exit($failed > 0 || $tests === [] ? 1 : 0);
