<?php
/**
 * Re-authentication (sudo mode) through Sessionkit\Client against the real service: validate
 * with recentAuth, ReauthenticationRequired with the service's maxAge and methods, reauthenticate.
 */
declare(strict_types=1);

use Sessionkit\InvalidRequest;
use Sessionkit\ReauthenticationRequired;
use Sessionkit\SessionkitException;
use Sessionkit\SessionRevoked;
use Sessionkit\TokenException;
use Sessionkit\TokenInvalid;

// The suite's service runs with the default SESSIONKIT_REAUTH_MAX_AGE (10 minutes).
const REAUTH_DEFAULT_MAX_AGE = 600;

/** POST /v1/sessions/validate without the client: the service's own status and body. */
function raw_validate(array $body): array
{
    $curl = curl_init(sk_url() . '/v1/sessions/validate');
    curl_setopt_array($curl, [
        CURLOPT_POST => true, CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 5, CURLOPT_PROXY => '',
        CURLOPT_HTTPHEADER => ['Content-Type: application/json', 'X-API-Key: ' . sk_key()],
        CURLOPT_POSTFIELDS => json_encode($body, JSON_THROW_ON_ERROR),
    ]);
    $raw = (string) curl_exec($curl);
    $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
    curl_close($curl);
    return [$status, json_decode($raw, true, 64, JSON_THROW_ON_ERROR)];
}

return [
    'a new session is fresh and carries its authentication' => function (): void {
        $c = sk_client();
        $issued = $c->create(new_user());
        $session = $c->validate($issued['token']);
        assert_same(true, $session['fresh']);
        assert_same([], $session['authMethods']);
        assert_same($issued['session']['authenticatedAt'], $session['authenticatedAt']);
        assert_same(true, $c->validate($issued['token'], ['maxAge' => REAUTH_DEFAULT_MAX_AGE])['fresh']);
        assert_same(true, $c->validate($issued['token'], [])['fresh'], 'the default requirement');
        assert_same(true, $c->current($issued['token'])['fresh']);
    },
    'a missing method is refused with the service\'s requirement' => function (): void {
        $c = sk_client();
        $issued = $c->create(new_user());
        $e = assert_throws(ReauthenticationRequired::class, fn () => $c->validate($issued['token'], ['methods' => ['totp']]));
        assert_same(['reauthentication_required', 403, REAUTH_DEFAULT_MAX_AGE, ['totp']], [$e->errorCode, $e->status, $e->maxAge, $e->methods]);
        assert_true(!str_contains($e->getMessage(), $issued['token']), 'no token in the message');
        [$status, $body] = raw_validate(['token' => $issued['token'], 'recentAuth' => ['methods' => ['totp']]]);
        assert_same([403, $body], [$status, $e->toBody()], 'toBody() is the service\'s body');
        $e = assert_throws(ReauthenticationRequired::class, fn () => $c->validate($issued['token'], ['maxAge' => 120, 'methods' => ['totp']]));
        assert_same([120, ['totp']], [$e->maxAge, $e->methods]);
        // Refused for freshness only: the session itself is still live.
        assert_same($issued['session']['id'], $c->validate($issued['token'])['id']);
    },
    'an old authentication is refused until the user reauthenticates' => function (): void {
        $c = sk_client();
        $issued = $c->create(new_user());
        // recentAuth.maxAge is whole seconds (at least 1) and sessions cannot be created with an
        // earlier authentication, so the session has to grow older than one second.
        usleep(1_100_000);
        $e = assert_throws(ReauthenticationRequired::class, fn () => $c->validate($issued['token'], ['maxAge' => 1]));
        assert_same([1, []], [$e->maxAge, $e->methods]);
        $renewed = $c->reauthenticate($issued['token'], ['password']);
        assert_true(new DateTimeImmutable($renewed['session']['authenticatedAt']) > new DateTimeImmutable($issued['session']['authenticatedAt']), 'authenticatedAt moved');
        assert_same(true, $c->validate($renewed['token'], ['maxAge' => REAUTH_DEFAULT_MAX_AGE, 'methods' => ['password']])['fresh']);
    },
    'reauthenticate rotates the token and records the methods' => function (): void {
        $c = sk_client();
        $issued = $c->create(new_user());
        $renewed = $c->reauthenticate($issued['token'], ['password', 'totp']);
        assert_true($renewed['token'] !== $issued['token'] && str_starts_with($renewed['token'], 'sk_'), 'a new opaque token');
        assert_same($issued['session']['id'], $renewed['session']['id']);
        assert_same(['password', 'totp'], $renewed['session']['authMethods']);
        assert_true(is_string($renewed['csrfToken']) && $renewed['csrfToken'] !== '', 'a CSRF token');
        $session = $c->validate($renewed['token'], ['methods' => ['totp']]);
        assert_same([$issued['session']['id'], true], [$session['id'], $session['fresh']]);
        // The suite's service runs without a renew grace: the old token is dead at once.
        assert_throws(TokenInvalid::class, fn () => $c->validate($issued['token']));
    },
    'reauthenticate a jwt session issues a new pair' => function (): void {
        $c = sk_client();
        $jwt = $c->create(new_user(), tokenType: 'jwt');
        $renewed = $c->reauthenticate($jwt['accessToken'], ['webauthn']);
        assert_same($jwt['session']['id'], $renewed['session']['id']);
        assert_true($renewed['accessToken'] !== $jwt['accessToken'] && $renewed['refreshToken'] !== $jwt['refreshToken'], 'a new pair');
        assert_true(!isset($renewed['token']), 'no opaque token');
        assert_same(['webauthn'], $c->validate($renewed['accessToken'], ['methods' => ['webauthn']])['authMethods']);
        assert_true($c->refresh($renewed['refreshToken'])['accessToken'] !== '', 'the new refresh token works');
    },
    'bad input and dead sessions are refused' => function (): void {
        $c = sk_client();
        $issued = $c->create(new_user());
        foreach ([[], ['a' => 'password'], [1]] as $methods) {
            assert_throws(InvalidArgumentException::class, fn () => $c->reauthenticate($issued['token'], $methods));
        }
        assert_throws(InvalidRequest::class, fn () => $c->reauthenticate($issued['token'], ['not a method!']));
        foreach ([['maxAge' => 0], ['maxAge' => 31_536_001], ['maxAge' => '60'], ['max_age' => 60], ['methods' => 'totp']] as $bad) {
            assert_throws(InvalidArgumentException::class, fn () => $c->validate($issued['token'], $bad));
        }
        $c->revoke($issued['session']['id']);
        assert_throws(SessionRevoked::class, fn () => $c->reauthenticate($issued['token'], ['password']));
        assert_throws(TokenException::class, fn () => $c->validate($issued['token'], ['maxAge' => 60]));
    },
    'the error reads maxAge and methods from the body only when well-formed' => function (): void {
        $e = SessionkitException::fromResponse(403, ['error' => 'reauthentication_required', 'message' => 'm', 'maxAge' => 300, 'methods' => ['totp', 7]]);
        assert_true($e instanceof ReauthenticationRequired, 'its class');
        assert_same([300, ['totp']], [$e->maxAge, $e->methods]);
        $bare = SessionkitException::fromResponse(403, ['error' => 'reauthentication_required', 'message' => 'm', 'maxAge' => '300']);
        assert_same([null, []], [$bare->maxAge, $bare->methods]);
        assert_same(['error' => 'reauthentication_required', 'message' => 'm', 'methods' => []], $bare->toBody());
    },
];
