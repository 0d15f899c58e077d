<?php
/**
 * JwtMiddleware as a real PSR-15 `MiddlewareInterface`, for stacks that type-check middleware
 * (Slim, Mezzio, Laminas ...). Load it only where psr/http-server-middleware is installed; the
 * autoloader never touches this file otherwise.
 *
 * Example:
 *     $app->add(new Sessionkit\Psr15JwtMiddleware(new Sessionkit\JwtMiddleware($verifier, $factory)));
 */
declare(strict_types=1);

namespace Sessionkit;

use Psr\Http\Message\ResponseInterface;
use Psr\Http\Message\ServerRequestInterface;
use Psr\Http\Server\MiddlewareInterface;
use Psr\Http\Server\RequestHandlerInterface;

final class Psr15JwtMiddleware implements MiddlewareInterface
{
    public function __construct(private readonly JwtMiddleware $inner)
    {
    }

    public function process(ServerRequestInterface $request, RequestHandlerInterface $handler): ResponseInterface
    {
        $response = $this->inner->process($request, $handler);
        if (!$response instanceof ResponseInterface) {
            throw new \LogicException('the response factory must build a PSR-7 ResponseInterface');
        }
        return $response;
    }
}
