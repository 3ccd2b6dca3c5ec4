import { Module, type DynamicModule } from '@nestjs/common';
import { DirectoryController } from './directory.http.controller';
import { DIRECTORY_CACHE_TTL_MS, DirectoryService } from './directory.service';

/** The directory of organisations and clinical teams: its HTTP API, and DirectoryService for the rest of the service. */
@Module({})
export class DirectoryModule {
  /** `cacheTtlMs`: how long a team or organisation found is answered from memory (DIRECTORY_CACHE_TTL_MS). */
  static register(cacheTtlMs: number): DynamicModule {
    return {
      module: DirectoryModule,
      controllers: [DirectoryController],
      providers: [{ provide: DIRECTORY_CACHE_TTL_MS, useValue: cacheTtlMs }, DirectoryService],
      exports: [DirectoryService],
    };
  }
}
