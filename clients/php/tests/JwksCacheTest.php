<?php
/**
 * Where Sessionkit\Jwks keeps its shared cache (issue 22): by default in a private directory of
 * this user under the temp folder, which another user cannot prepare in advance. The limit across
 * processes itself is test/clients/php-jwks.test.ts (many PHP processes, a counting JWKS server).
 */
declare(strict_types=1);

/** Runs PHP code in a child process with TMPDIR=$tmp; returns [exit code, output]. */
function php_with_tmpdir(string $tmp, string $code): array
{
    $script = 'require ' . var_export(__DIR__ . '/../autoload.php', true) . ';' . $code;
    exec('TMPDIR=' . escapeshellarg($tmp) . ' ' . escapeshellarg(PHP_BINARY) . ' -r ' . escapeshellarg($script) . ' 2>&1', $output, $status);
    return [$status, implode("\n", $output)];
}

return [
    'the default JWKS cache file lives in a private directory of this user under the temp folder' => function (): void {
        $tmp = temp_dir();
        $dir = "$tmp/sessionkit-" . posix_geteuid();
        try {
            [$status, $output] = php_with_tmpdir($tmp, '$j = Sessionkit\Jwks::forService("http://127.0.0.1:1"); $p = new ReflectionProperty($j, "cacheFile"); echo $p->getValue($j);');
            assert_same(0, $status, $output);
            assert_same($dir, dirname($output), 'the cache file is in sessionkit-<uid>');
            assert_same(0700, fileperms($dir) & 0777);
        } finally {
            @rmdir($dir);
        }
    },
    'a JWKS cache directory another user prepared is refused, loudly' => function (): void {
        if (posix_geteuid() !== 0) {
            // Another user's directory cannot be made without root; a group-writable one can.
            $tmp = temp_dir();
            mkdir("$tmp/sessionkit-" . posix_geteuid(), 0770);
            chmod("$tmp/sessionkit-" . posix_geteuid(), 0770);
        } else {
            $tmp = temp_dir();
            mkdir("$tmp/sessionkit-0", 0777);
            chown("$tmp/sessionkit-0", 65534);
        }
        try {
            [$status, $output] = php_with_tmpdir($tmp, 'Sessionkit\Jwks::forService("http://127.0.0.1:1");');
            assert_true($status !== 0, 'construction fails');
            assert_true(str_contains($output, 'JWKS cache directory') && str_contains($output, 'cacheFile'), "a clear error: $output");
        } finally {
            @rmdir("$tmp/sessionkit-" . posix_geteuid());
        }
    },
];
