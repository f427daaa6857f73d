import type { ValidateFunction } from 'ajv';

/**
 * An ajv validator compiled on its first call instead of when its module loads. Compiling the
 * built-in schemas (config, content kinds, rules, workflows, API routes) at import cost ~0.5 s of
 * CPU at every `squall start`, most of it for validators an idle server never calls. The result
 * behaves as the compiled function: same return value, same `errors` after a call.
 */
export function lazyValidator<T = unknown>(compile: () => ValidateFunction<T>): ValidateFunction<T> {
  let compiled: ValidateFunction<T> | undefined;
  const get = (): ValidateFunction<T> => (compiled ??= compile());
  const validate = function (this: unknown, ...args: Parameters<ValidateFunction<T>>) {
    return get().apply(this, args);
  } as ValidateFunction<T>;
  Object.defineProperty(validate, 'errors', {
    get: () => compiled?.errors,
    set: (v: ValidateFunction<T>['errors']) => {
      get().errors = v;
    },
  });
  Object.defineProperty(validate, 'schema', { get: () => get().schema });
  return validate;
}
