/* Test-only stand-in for bcryptprimitives.dll: Wine 8.0 lacks ProcessPrng,
   which the Go runtime (1.24 and later) loads at start on Windows. */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE buf, SIZE_T n)
{
	return BCryptGenRandom(NULL, buf, (ULONG)n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) == 0;
}
