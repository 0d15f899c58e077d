<?php
/**
 * Loads the sessionkit PHP client without Composer: `require __DIR__ . '/clients/php/autoload.php';`
 * (with Composer, composer.json maps the same `Sessionkit\` namespace to src/).
 */
declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    if (!str_starts_with($class, 'Sessionkit\\')) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, strlen('Sessionkit\\'))) . '.php';
    if (is_file($file)) {
        require $file;
        return;
    }
    // The exception classes are small and live together in one file.
    require_once __DIR__ . '/src/Errors.php';
});
