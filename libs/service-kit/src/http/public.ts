import { SetMetadata } from '@nestjs/common';

/** Metadata key: the route needs no bearer token (health probes; the OpenAPI document is outside the guard). */
export const IS_PUBLIC = Symbol('IsPublicRoute');
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
