<?php
/**
 * Cross-language checks driven by test/clients/clients.test.ts (not part of run.php).
 *
 *     php interop.php create opaque|jwt FILE   creates a session, writes {token, sessionId, userId} to FILE
 *     php interop.php validate FILE            validates FILE's token through the service
 *     php interop.php verify-jwt FILE          verifies FILE's access token locally (JwtMiddleware, JWKS)
 *
 * The token travels in a private file, never on a command line or in output.
 */
declare(strict_types=1);

require __DIR__ . '/../autoload.php';
require __DIR__ . '/lib.php';
require_once __DIR__ . '/psr-stubs.php';

use Sessionkit\Jwks;
use Sessionkit\JwtMiddleware;
use Sessionkit\JwtVerifier;
use Sessionkit\SessionkitException;

function fail(string $message): never
{
    fwrite(STDERR, $message . "\n");
    exit(1);
}

[$command, $a, $b] = array_pad(array_slice($argv, 1), 3, null);
try {
    if ($command === 'create' && in_array($a, ['opaque', 'jwt'], true) && $b !== null) {
        $issued = sk_client()->create(new_user(), ['interop'], tokenType: $a);
        $umask = umask(0077);
        file_put_contents($b, json_encode(['token' => $issued[$a === 'jwt' ? 'accessToken' : 'token'], 'sessionId' => $issued['session']['id'], 'userId' => $issued['session']['userId']]));
        umask($umask);
        exit(0);
    }
    if (($command === 'validate' || $command === 'verify-jwt') && $a !== null) {
        $expected = json_decode((string) file_get_contents($a), true);
        if ($command === 'validate') {
            $session = sk_client()->validate($expected['token']);
            [$sid, $user] = [$session['id'], $session['userId']];
        } else {
            $mw = new JwtMiddleware(new JwtVerifier(Jwks::forService(sk_url(), cacheFile: false)), null);
            $handler = new SessionkitTest\Handler();
            $mw->process(new SessionkitTest\Request('GET', ['Authorization' => 'Bearer ' . $expected['token']]), $handler);
            $claims = $handler->seen->getAttribute('sessionkit.claims');
            [$sid, $user] = [$claims['sid'], $claims['sub']];
        }
        if ([$sid, $user] !== [$expected['sessionId'], $expected['userId']]) {
            fail("$command returned another session");
        }
        fwrite(STDOUT, "$command: session of $user\n");
        exit(0);
    }
} catch (SessionkitException $e) {
    fail("$command failed: {$e->errorCode}: {$e->getMessage()}");
}
fail('usage: php interop.php create opaque|jwt FILE | validate FILE | verify-jwt FILE');
