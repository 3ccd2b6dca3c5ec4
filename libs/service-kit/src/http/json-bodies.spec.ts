import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { configureHttpApp } from './bootstrap';

@Controller('things')
class ThingsController {
  @Post()
  @HttpCode(200)
  create(@Body() body: unknown) {
    return { got: body ?? null };
  }
}

@Module({ controllers: [ThingsController] })
class ThingsModule {}

/** Every service's POSTs take JSON: any other body is 415 problem+json, answered before a handler runs. */
describe('request bodies are JSON', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(ThingsModule, new FastifyAdapter(), { logger: false });
    configureHttpApp(app);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  const post = (headers: Record<string, string>, payload?: string) =>
    app
      .getHttpAdapter()
      .getInstance()
      .inject({ method: 'POST', url: '/things', headers, ...(payload !== undefined ? { payload } : {}) });

  it('accepts application/json, with or without a charset', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8']) {
      const res = await post({ 'content-type': type }, '{"a":1}');
      expect({ type, status: res.statusCode }).toEqual({ type, status: 200 });
    }
  });

  it('accepts a POST without a body (decisions whose body is optional)', async () => {
    expect((await post({})).statusCode).toBe(200);
  });

  it.each([
    ['text/plain', 'hello'],
    ['application/x-www-form-urlencoded', 'a=1'],
    ['multipart/form-data; boundary=x', '--x--'],
    ['application/xml', '<a/>'],
    ['application/jsonp', '{"a":1}'],
  ])('answers 415 problem+json to a %s body', async (type, payload) => {
    const res = await post({ 'content-type': type }, payload);
    expect(res.statusCode).toBe(415);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 415, type: 'urn:sonet:problem:unsupported-media-type' });
    expect(res.body).not.toContain(payload);
  });

  it('answers 415 problem+json to a body without a Content-Type', async () => {
    const res = await app
      .getHttpAdapter()
      .getInstance()
      .inject({ method: 'POST', url: '/things', payload: Buffer.from('{"a":1}'), headers: { 'content-type': '' } });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ status: 415 });
  });

  it('still answers 400 to malformed JSON', async () => {
    const res = await post({ 'content-type': 'application/json' }, '{"a":');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
