<?php
/**
 * What SessionHandler knows during one request: the service's validations (with tokens and CSRF
 * tokens), the ids it created, the payload locks it holds. A new one starts with every request
 * (worker-mode servers reuse the handler), and it is kept Hidden: var_export() or print_r() of
 * the handler never shows a token.
 *
 * @internal
 */
declare(strict_types=1);

namespace Sessionkit;

final class SessionRequest
{
    /** @var array<string, array{token: string, session: array, csrfToken: ?string}|false> validations, by session id; false: dead */
    public array $known = [];
    public ?string $currentId = null;
    /** @var array<string, true> ids create_sid() made */
    public array $created = [];
    /** @var array<string, true> payload keys this request holds the lock of */
    public array $locked = [];
    /** A service failure met while validating an incoming id, rethrown by read(). */
    public ?SessionkitException $failure = null;
    /** @var array{userId: string, roles: array, data: ?array}|null */
    public ?array $pendingLogin = null;
}
