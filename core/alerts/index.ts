export * from './config';
export * from './message';
export * from './memoryPublisher';
export * from './perError';
export * from './rules';
export * from './text';
