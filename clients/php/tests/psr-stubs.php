<?php
/**
 * Just enough of PSR-7 and PSR-15 for the middleware tests, declared only when the real packages
 * are absent (the client needs neither at run time). The method signatures are PSR's own.
 */
declare(strict_types=1);

namespace Psr\Http\Message;

if (!interface_exists(ServerRequestInterface::class)) {
    interface ServerRequestInterface
    {
        public function getMethod(): string;
        public function getHeaderLine(string $name): string;
        public function getCookieParams(): array;
        public function withAttribute(string $name, $value): ServerRequestInterface;
        public function getAttribute(string $name, $default = null);
    }
}
if (!interface_exists(ResponseInterface::class)) {
    interface ResponseInterface
    {
        public function getStatusCode(): int;
        public function getHeaderLine(string $name): string;
    }
}

namespace Psr\Http\Server;

use Psr\Http\Message\ResponseInterface;
use Psr\Http\Message\ServerRequestInterface;

if (!interface_exists(RequestHandlerInterface::class)) {
    interface RequestHandlerInterface
    {
        public function handle(ServerRequestInterface $request): ResponseInterface;
    }
}
if (!interface_exists(MiddlewareInterface::class)) {
    interface MiddlewareInterface
    {
        public function process(ServerRequestInterface $request, RequestHandlerInterface $handler): ResponseInterface;
    }
}

namespace SessionkitTest;

use Psr\Http\Message\ResponseInterface;
use Psr\Http\Message\ServerRequestInterface;
use Psr\Http\Server\RequestHandlerInterface;

final class Request implements ServerRequestInterface
{
    private array $attributes = [];

    public function __construct(private string $method = 'GET', private array $headers = [], private array $cookies = [])
    {
    }

    public function getMethod(): string { return $this->method; }
    public function getHeaderLine(string $name): string
    {
        foreach ($this->headers as $k => $v) {
            if (strcasecmp($k, $name) === 0) { return $v; }
        }
        return '';
    }
    public function getCookieParams(): array { return $this->cookies; }
    public function withAttribute(string $name, $value): ServerRequestInterface
    {
        $copy = clone $this;
        $copy->attributes[$name] = $value;
        return $copy;
    }
    public function getAttribute(string $name, $default = null) { return $this->attributes[$name] ?? $default; }
}

final class Response implements ResponseInterface
{
    public function __construct(public int $status, public array $headers, public string $body)
    {
    }

    public function getStatusCode(): int { return $this->status; }
    public function getHeaderLine(string $name): string { return $this->headers[$name] ?? ''; }
    public function json(): array { return json_decode($this->body, true); }
}

final class Handler implements RequestHandlerInterface
{
    public ?ServerRequestInterface $seen = null;

    public function handle(ServerRequestInterface $request): ResponseInterface
    {
        $this->seen = $request;
        return new Response(200, [], '{"ok":true}');
    }
}
