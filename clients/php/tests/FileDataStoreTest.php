<?php
/**
 * Sessionkit\FileDataStore trusts only a directory of its own (issue 22, medium 2): another local
 * user who creates the directory first, or who can write to it, could swap a victim's $_SESSION
 * (objects included, which PHP unserializes). Files are 0600 from their creation.
 */
declare(strict_types=1);

use Sessionkit\FileDataStore;

/** A fresh directory under the system temp folder (removed at exit), with $mode. */
function loose_dir(int $mode): string
{
    $dir = temp_dir();
    chmod($dir, $mode);
    return $dir;
}

return [
    'refuses a session directory another user owns' => function (): void {
        if (posix_geteuid() === 0) {
            $dir = temp_dir();
            chown($dir, 65534); // nobody: what an attacker who created the directory first looks like
        } else {
            $dir = '/usr/share'; // root's, and this user is not root
        }
        assert_throws(RuntimeException::class, fn () => new FileDataStore($dir), 'belongs to another user');
    },
    'refuses a session directory that group or others can write to' => function (): void {
        assert_throws(RuntimeException::class, fn () => new FileDataStore(loose_dir(0777)), 'writable by group or others');
        assert_throws(RuntimeException::class, fn () => new FileDataStore(loose_dir(0770)), 'writable by group or others');
        new FileDataStore(loose_dir(0700));
        new FileDataStore(loose_dir(0755));
    },
    'refuses a session directory inside a folder others can write to without the sticky bit' => function (): void {
        $parent = loose_dir(0777);
        $dir = "$parent/sessions";
        mkdir($dir, 0700);
        try {
            assert_throws(RuntimeException::class, fn () => new FileDataStore($dir), 'which others can write to');
            chmod($parent, 01777); // like /tmp: others cannot rename or delete what is ours
            new FileDataStore($dir);
        } finally {
            rmdir($dir);
        }
    },
    'follows a symlink once: the directory it pointed to at construction is checked and used' => function (): void {
        $real = temp_dir();
        $link = sys_get_temp_dir() . '/sessionkit-php-link-' . bin2hex(random_bytes(6));
        symlink($real, $link);
        register_shutdown_function(static fn () => @unlink($link));
        $store = new FileDataStore($link);
        $other = temp_dir();
        unlink($link);
        symlink($other, $link); // re-pointed later: the store keeps writing where it checked
        $store->write('a:x', 'v|i:1;', time() + 60);
        assert_same(1, count(glob("$real/sk_sess_*") ?: []));
        assert_same(0, count(glob("$other/sk_sess_*") ?: []));
    },
    'creates the directory 0700 and every file 0600 from its creation, whatever the umask' => function (): void {
        $dir = sys_get_temp_dir() . '/sessionkit-php-new-' . bin2hex(random_bytes(6));
        register_shutdown_function(static function () use ($dir): void {
            foreach (glob("$dir/*") ?: [] as $f) { @unlink($f); }
            @rmdir($dir);
        });
        // A child PHP with umask 0 and a file-size limit of 1 KiB writes a 4 KiB payload: the write
        // fails part-way, and whatever file the attempt created is left to inspect.
        $script = 'require ' . var_export(__DIR__ . '/../autoload.php', true) . ';'
            . 'pcntl_signal(SIGXFSZ, SIG_IGN); umask(0);'
            . '$s = new Sessionkit\FileDataStore(' . var_export($dir, true) . ');'
            . '$s->write("a:small", "ok", time() + 60);'
            . 'exit($s->write("a:big", str_repeat("x", 4096), time() + 60) ? 3 : 0);';
        exec('ulimit -f 1; ' . escapeshellarg(PHP_BINARY) . ' -r ' . escapeshellarg($script) . ' 2>&1', $output, $code);
        assert_same(0, $code, 'the big write fails: ' . implode("\n", $output));
        clearstatcache();
        assert_same(0700, fileperms($dir) & 0777, 'the directory');
        $files = glob("$dir/*") ?: [];
        assert_true($files !== [], 'the small payload was written');
        foreach ($files as $file) {
            assert_same('0600', sprintf('%04o', fileperms($file) & 0777), basename($file));
        }
    },
];
