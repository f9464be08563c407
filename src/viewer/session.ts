/** The API key lives in sessionStorage: it is gone when the tab closes, and no other site reads it. */
const KEY = 'cascade.apiKey';

export const apiKey = (): string | null => sessionStorage.getItem(KEY);
export const signIn = (key: string): void => sessionStorage.setItem(KEY, key);
export const signOut = (): void => sessionStorage.removeItem(KEY);
