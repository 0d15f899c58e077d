<?php
/**
 * `$_SESSION` backed by the sessionkit service: plain PHP session code keeps working, and the
 * service decides who is logged in, for how long, and when it ends.
 *
 * - The PHP session id of a logged-in user *is* the service token (escaped into PHP's session-id
 *   alphabet: `_` becomes `,u` and `.` becomes `,d`), so every request is validated by the service
 *   (idle and absolute expiry, revocation from any device or backend).
 * - `$handler->login($userId, $roles)` creates the service session (replacing the current one:
 *   no fixation) and switches the session id to it; the anonymous `$_SESSION` is dropped unless
 *   `keepSessionData: true` (what an attacker put into a session they planted must not reach the
 *   victim's login). Before login, sessions are anonymous and local (`anon-<64 hex>`), e.g. for a
 *   login form's own CSRF value or a cart.
 * - register() installs it with strict mode and a `__Host-PHPSESSID` cookie; the handler refuses
 *   to start a session without strict mode (an attacker-chosen id would be adopted).
 * - Everything the handler learns about a session is forgotten when the session closes, so a
 *   handler reused across requests (FrankenPHP worker mode, RoadRunner, Swoole) validates every
 *   request anew.
 * - `session_regenerate_id()` of a logged-in session renews the token (same service session).
 * - `session_destroy()` revokes the service session (logout).
 * - Garbage collection follows the service's expiry: each payload is kept until the session's idle
 *   or absolute expiry as the service last reported it (anonymous ones for `anonymousLifetime`).
 * - The `$_SESSION` payload itself lives in a DataStore (files by default) under the service's
 *   public session id, never under the token.
 * - Concurrent requests of one session take turns, as with PHP's own files handler: the payload
 *   is locked from session_start() until the session closes (session_write_close() or the end
 *   of the request), so no request's write is lost. A request that waits longer than
 *   `lockTimeout` gets SessionLocked from session_start().
 * - Fail closed: when the service cannot be reached, `session_start()` throws ServiceUnavailable
 *   rather than treating the visitor as logged out or logged in.
 *
 * Identity must come from `$handler->session()` (the service's answer), not from values the app
 * put in `$_SESSION`.
 *
 * Example:
 *     $handler = new Sessionkit\SessionHandler($client, new Sessionkit\FileDataStore('/var/lib/app/sessions'));
 *     Sessionkit\SessionHandler::register($handler);
 *     session_start();
 *     if ($passwordOk) { $handler->login($userId, ['user']); }
 *     $who = $handler->session();          // null when anonymous
 */
declare(strict_types=1);

namespace Sessionkit;

final class SessionHandler implements \SessionHandlerInterface, \SessionIdInterface, \SessionUpdateTimestampHandlerInterface
{
    private const ANONYMOUS = '/^anon-[0-9a-f]{64}$/';
    private const ENCODED = '/^(?:[A-Za-z0-9-]|,[ud])+$/';

    private readonly int $anonymousLifetime;
    private readonly float $lockTimeout;
    /** @var \Closure(): array */
    private readonly \Closure $device;
    /** @var \Closure(): int */
    private readonly \Closure $clock;

    /**
     * Options: `anonymousLifetime` (seconds an anonymous session's payload is kept without a
     * write; default session.gc_maxlifetime), `device` (a callable returning the device array
     * sent at login; default the request's User-Agent and REMOTE_ADDR), `clock` (Unix seconds),
     * `lockTimeout` (seconds a request waits for another request of its session to close it;
     * default 10), `locking` (false: accept a DataStore that cannot lock, and lost updates when
     * requests of one session overlap; a LockingDataStore is required otherwise).
     */
    public function __construct(private readonly Client $client, private readonly DataStore $data, array $options = [])
    {
        $lifetime = $options['anonymousLifetime'] ?? ((int) ini_get('session.gc_maxlifetime') ?: 1440);
        if (!is_int($lifetime) || $lifetime <= 0) {
            throw new \InvalidArgumentException('anonymousLifetime must be a positive number of seconds');
        }
        $this->anonymousLifetime = $lifetime;
        $lockTimeout = $options['lockTimeout'] ?? 10.0;
        if ((!is_int($lockTimeout) && !is_float($lockTimeout)) || $lockTimeout <= 0) {
            throw new \InvalidArgumentException('lockTimeout must be a positive number of seconds');
        }
        $this->lockTimeout = (float) $lockTimeout;
        if (!$data instanceof LockingDataStore && ($options['locking'] ?? true) !== false) {
            throw new \InvalidArgumentException('the DataStore cannot lock a session (implement LockingDataStore), so concurrent requests '
                . "of one session would lose each other's writes; pass the option 'locking' => false to accept that");
        }
        $this->device = \Closure::fromCallable($options['device'] ?? static fn (): array => [
            'userAgent' => isset($_SERVER['HTTP_USER_AGENT']) ? substr((string) $_SERVER['HTTP_USER_AGENT'], 0, 4096) : null,
            'ip' => isset($_SERVER['REMOTE_ADDR']) ? (string) $_SERVER['REMOTE_ADDR'] : null,
        ]);
        $this->clock = \Closure::fromCallable($options['clock'] ?? 'time');
    }

    /**
     * Installs the handler with the session settings it relies on: strict mode (unknown ids are
     * never adopted), cookies only, HttpOnly, SameSite=Lax, Path=/ and no Domain, and with
     * $secureCookie (the default) Secure and the name `__Host-PHPSESSID`, which a sibling
     * subdomain cannot set (plain-HTTP development: false, and the name `PHPSESSID`).
     * $cookieName overrides the name. Call before session_start().
     */
    public static function register(self $handler, bool $secureCookie = true, ?string $cookieName = null): void
    {
        foreach ([
            'session.use_strict_mode' => '1', 'session.use_cookies' => '1', 'session.use_only_cookies' => '1',
            'session.use_trans_sid' => '0', 'session.cookie_httponly' => '1', 'session.cookie_samesite' => 'Lax',
            'session.cookie_secure' => $secureCookie ? '1' : '0', 'session.cookie_path' => '/', 'session.cookie_domain' => '',
            'session.name' => $cookieName ?? ($secureCookie ? '__Host-PHPSESSID' : 'PHPSESSID'),
        ] as $name => $value) {
            if (ini_set($name, $value) === false) {
                throw new \LogicException("cannot set $name: call register() before session_start() and before any output");
            }
        }
        session_set_save_handler($handler, true);
    }

    /**
     * Logs the user in: creates the service session (revoking the one this request had, if any)
     * and moves the active PHP session to it. `$_SESSION` starts empty unless $keepSessionData:
     * values set before login may come from whoever prepared the anonymous session. Returns the
     * service session.
     */
    public function login(string $userId, array $roles = [], ?array $data = null, bool $keepSessionData = false): array
    {
        if (session_status() !== PHP_SESSION_ACTIVE) {
            throw new \LogicException('login() needs an active session: call session_start() first');
        }
        if (!$keepSessionData) {
            $_SESSION = [];
        }
        $this->request()->pendingLogin = ['userId' => $userId, 'roles' => $roles, 'data' => $data];
        try {
            if (!session_regenerate_id(true)) {
                throw new \RuntimeException('the session id could not be regenerated');
            }
        } finally {
            $this->request()->pendingLogin = null;
        }
        return $this->session() ?? throw new \LogicException('login did not produce a session');
    }

    /** The service session of the current request, or null when anonymous (or logged out). */
    public function session(): ?array
    {
        $request = $this->request();
        $entry = $request->currentId !== null ? ($request->known[$request->currentId] ?? false) : false;
        return $entry === false ? null : $entry['session'];
    }

    /** The CSRF token the service derives for the current session (for forms), or null. */
    public function csrfToken(): ?string
    {
        $request = $this->request();
        $entry = $request->currentId !== null ? ($request->known[$request->currentId] ?? false) : false;
        return $entry === false ? null : $entry['csrfToken'];
    }

    public function open(string $path, string $name): bool
    {
        if (self::regenerating()) {
            return true;
        }
        foreach (['session.use_strict_mode' => true, 'session.use_only_cookies' => true, 'session.use_trans_sid' => false] as $setting => $wanted) {
            if (filter_var(ini_get($setting), FILTER_VALIDATE_BOOLEAN) !== $wanted) {
                throw new \LogicException("Sessionkit\\SessionHandler needs $setting = " . ($wanted ? '1' : '0')
                    . ' (or attacker-chosen session ids are adopted): install it with SessionHandler::register($handler)');
            }
        }
        $this->forgetRequest();
        return true;
    }

    /** Ends the request's hold on the session (not inside session_regenerate_id(), which reopens it). */
    public function close(): bool
    {
        if (!self::regenerating()) {
            $this->unlockAll();
            $this->forgetRequest();
        }
        return true;
    }

    /** Drops what this request learnt: the next request (same handler in worker mode) asks the service again. */
    private function forgetRequest(): void
    {
        Hidden::set($this, new SessionRequest());
    }

    /** This request's state, kept Hidden (it holds tokens). */
    private function request(): SessionRequest
    {
        $request = Hidden::get($this);
        if (!$request instanceof SessionRequest) {
            $request = new SessionRequest();
            Hidden::set($this, $request);
        }
        return $request;
    }

    public function __debugInfo(): array
    {
        return ['session' => $this->session() === null ? null : ['id' => $this->session()['id'], 'userId' => $this->session()['userId'] ?? null],
            'lockTimeout' => $this->lockTimeout, 'anonymousLifetime' => $this->anonymousLifetime];
    }

    /**
     * Whether the id is in use. PHP asks this of an incoming id (strict mode: an unknown one is
     * replaced), and of an id create_sid() just made, where "in use" would mean a collision: a
     * fresh id is new by construction (the service just issued it), so the answer there is false.
     */
    public function validateId(#[\SensitiveParameter] string $id): bool
    {
        if (isset($this->request()->created[$id])) {
            return false;
        }
        if (preg_match(self::ANONYMOUS, $id) === 1) {
            return $this->data->read(self::anonymousKey($id)) !== null;
        }
        try {
            return $this->check($id) !== false;
        } catch (SessionkitException $e) {
            // Thrown from here (or from create_sid), PHP would wrap it in an \Error "Session id
            // must be a string"; read() comes next and throws it as it is: session_start() fails
            // closed with the service's own exception.
            $this->request()->failure = $e;
            return true;
        }
    }

    public function read(#[\SensitiveParameter] string $id): string|false
    {
        if ($this->request()->failure !== null) {
            [$failure, $this->request()->failure] = [$this->request()->failure, null];
            throw $failure;
        }
        $this->request()->currentId = $id;
        if (preg_match(self::ANONYMOUS, $id) === 1) {
            $key = self::anonymousKey($id);
        } else {
            $entry = $this->check($id);
            if ($entry === false) {
                return '';
            }
            $key = self::dataKey($entry['session']['id']);
        }
        $this->lock($key);
        try {
            return $this->data->read($key) ?? '';
        } catch (\Throwable $e) {
            $this->unlockAll();
            throw $e;
        }
    }

    public function write(#[\SensitiveParameter] string $id, string $data): bool
    {
        if (preg_match(self::ANONYMOUS, $id) === 1) {
            return $this->data->write(self::anonymousKey($id), $data, ($this->clock)() + $this->anonymousLifetime);
        }
        $entry = $this->check($id);
        if ($entry === false) {
            return true; // a dead session keeps nothing
        }
        return $this->data->write(self::dataKey($entry['session']['id']), $data, self::expiry($entry['session'], ($this->clock)()));
    }

    public function updateTimestamp(#[\SensitiveParameter] string $id, string $data): bool
    {
        return $this->write($id, $data);
    }

    public function destroy(#[\SensitiveParameter] string $id): bool
    {
        if (preg_match(self::ANONYMOUS, $id) === 1) {
            $this->data->delete(self::anonymousKey($id));
            return true;
        }
        // session_regenerate_id(true) destroys the old id before it asks for a new one; the
        // service session lives on (create_sid renews it or replaces it at login).
        if (self::regenerating()) {
            return true;
        }
        $entry = $this->request()->known[$id] ?? null;
        $token = is_array($entry) ? $entry['token'] : self::decode($id);
        if ($token !== null) {
            try {
                $this->client->logout($token);
            } catch (TokenException) {
                // already dead: nothing to revoke
            }
        }
        if (is_array($entry)) {
            $this->data->delete(self::dataKey($entry['session']['id']));
        }
        $this->request()->known[$id] = false;
        return true;
    }

    public function gc(int $max_lifetime): int|false
    {
        return $this->data->gc(($this->clock)());
    }

    public function create_sid(): string
    {
        $request = $this->request();
        $from = self::regenerating() && $request->currentId !== null ? ($request->known[$request->currentId] ?? false) : false;
        if ($request->pendingLogin !== null) {
            $login = $request->pendingLogin;
            $request->pendingLogin = null;
            $issued = $this->client->create($login['userId'], $login['roles'], ($this->device)(), $login['data'],
                replaces: $from === false ? null : $from['token']);
            if ($from !== false) {
                $this->data->delete(self::dataKey($from['session']['id']));
                $request->known[$request->currentId] = false;
            }
            return $this->adopt($issued);
        }
        if ($from !== false) {
            $renewed = $this->client->renew($from['token']);
            $request->known[$request->currentId] = false;
            return $this->adopt($renewed);
        }
        $id = 'anon-' . bin2hex(random_bytes(32));
        $this->request()->created[$id] = true;
        return $id;
    }

    /** Takes the lock of a payload for this request (bounded wait); SessionLocked past it. */
    private function lock(string $key): void
    {
        if (!$this->data instanceof LockingDataStore || isset($this->request()->locked[$key])) {
            return;
        }
        if (!$this->data->lock($key, $this->lockTimeout)) {
            throw new SessionLocked(sprintf('another request of this session kept it locked for %.1f s (lockTimeout): '
                . 'call session_write_close() as soon as a request has written its session', $this->lockTimeout));
        }
        $this->request()->locked[$key] = true;
    }

    private function unlockAll(): void
    {
        if ($this->data instanceof LockingDataStore) {
            foreach (array_keys($this->request()->locked) as $key) {
                $this->data->unlock((string) $key);
            }
        }
        $this->request()->locked = [];
    }

    /** Remembers a session the service just issued and returns its PHP session id. */
    private function adopt(array $issued): string
    {
        $id = self::encode($issued['token']);
        $this->request()->known[$id] = ['token' => $issued['token'], 'session' => $issued['session'], 'csrfToken' => $issued['csrfToken'] ?? null];
        $this->request()->created[$id] = true;
        return $id;
    }

    /** The validation of a (non-anonymous) id, asked of the service once per request. */
    private function check(#[\SensitiveParameter] string $id): array|false
    {
        if (array_key_exists($id, $this->request()->known)) {
            return $this->request()->known[$id];
        }
        $token = self::decode($id);
        if ($token === null) {
            return $this->request()->known[$id] = false;
        }
        try {
            $answer = $this->client->validation($token);
        } catch (TokenException) {
            return $this->request()->known[$id] = false;
        }
        return $this->request()->known[$id] = ['token' => $token, 'session' => $answer['session'], 'csrfToken' => $answer['csrfToken'] ?? null];
    }

    private static function regenerating(): bool
    {
        foreach (debug_backtrace(DEBUG_BACKTRACE_IGNORE_ARGS, 6) as $frame) {
            if (($frame['function'] ?? '') === 'session_regenerate_id' && !isset($frame['class'])) {
                return true;
            }
        }
        return false;
    }

    private static function expiry(array $session, int $now): int
    {
        $times = [];
        foreach (['idleExpiresAt', 'absoluteExpiresAt'] as $field) {
            try {
                $times[] = (new \DateTimeImmutable((string) ($session[$field] ?? '')))->getTimestamp();
            } catch (\Exception) {
                // an unreadable time: fall back to the other one (or to now + 30 min)
            }
        }
        return $times === [] ? $now + 1800 : min($times);
    }

    /** A service token in PHP's session-id alphabet (a-z A-Z 0-9 , -). */
    public static function encode(#[\SensitiveParameter] string $token): string
    {
        if (preg_match('/^[A-Za-z0-9_.\-]+$/', $token) !== 1) {
            throw new TokenMalformed('the session token is not well-formed');
        }
        return str_replace(['_', '.'], [',u', ',d'], $token);
    }

    /** The service token of a PHP session id, or null when it cannot be one. */
    public static function decode(#[\SensitiveParameter] string $id): ?string
    {
        if (strlen($id) > 256 || preg_match(self::ENCODED, $id) !== 1) {
            return null;
        }
        return str_replace([',u', ',d'], ['_', '.'], $id);
    }

    private static function anonymousKey(string $id): string
    {
        return 'a:' . $id;
    }

    private static function dataKey(string $sessionId): string
    {
        return 's:' . $sessionId;
    }
}
