/**
 * Passwords (and password stems) that top every published leak list. Most are shorter than the
 * 12-character minimum on their own; the policy also refuses them repeated or with digits and
 * symbols around them ("password1234", "qwertyqwerty"), which is how they reach 12 characters.
 */
// biome-ignore format: a word list reads better packed than one word a line
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '123456', '123456789', '12345678', '1234567890', '12345', '1234567', '1234', '123123', '111111',
  '000000', '654321', '666666', '121212', '112233', '987654321', '123321', '159753', '147258369',
  '123qwe', '1q2w3e4r', '1q2w3e4r5t', '1qaz2wsx', 'qazwsx', 'zaq12wsx', 'qwerty', 'qwerty123',
  'qwertyuiop', 'asdfgh', 'asdfghjkl', 'zxcvbnm', 'azerty', 'qwertz', 'password', 'passw0rd',
  'p@ssw0rd', 'p@ssword', 'pass', 'passwd', 'secret', 'letmein', 'welcome', 'admin', 'administrator',
  'root', 'login', 'changeme', 'default', 'guest', 'test', 'master', 'iloveyou', 'princess', 'monkey',
  'dragon', 'sunshine', 'shadow', 'football', 'baseball', 'soccer', 'superman', 'batman', 'trustno1',
  'starwars', 'whatever', 'freedom', 'hello', 'michael', 'jennifer', 'jordan', 'charlie', 'donald',
  'hunter', 'killer', 'pokemon', 'naruto', 'minecraft', 'computer', 'internet', 'samsung', 'google',
  'abc123', 'abcdef', 'abcd1234', 'aa123456', 'a123456', 'qwe123', 'asd123', 'zxc123', 'lovely',
  'flower', 'summer', 'winter', 'spring', 'autumn', 'mustang', 'chocolate', 'cheese', 'cookie',
  'storepulse', 'analytics', 'dashboard', 'shop', 'store',
]);
