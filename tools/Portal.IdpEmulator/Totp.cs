using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace Portal.IdpEmulator;

/// <summary>RFC 6238 TOTP (T0 = 0). Written here so that the emulator does not share a bug with a library the portal might use.</summary>
internal static class Totp
{
    public const int StepSeconds = 30;

    public static long StepAt(DateTimeOffset at) => at.ToUnixTimeSeconds() / StepSeconds;

    public static string Compute(byte[] secret, long step, int digits = 6, HashAlgorithmName? algorithm = null)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
        var name = algorithm ?? HashAlgorithmName.SHA1;
        byte[] hash = name == HashAlgorithmName.SHA256 ? HMACSHA256.HashData(secret, counter)
            : name == HashAlgorithmName.SHA512 ? HMACSHA512.HashData(secret, counter)
#pragma warning disable CA5350 // RFC 6238 and every authenticator app use HMAC-SHA1; HMAC does not rely on SHA-1's collision resistance.
            : name == HashAlgorithmName.SHA1 ? HMACSHA1.HashData(secret, counter)
#pragma warning restore CA5350
            : throw new ArgumentOutOfRangeException(nameof(algorithm));
        var offset = hash[^1] & 0x0F;
        var binary = ((hash[offset] & 0x7F) << 24) | (hash[offset + 1] << 16) | (hash[offset + 2] << 8) | hash[offset + 3];
        var modulo = 1;
        for (var i = 0; i < digits; i++)
        {
            modulo *= 10;
        }

        return (binary % modulo).ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0');
    }

    public static string ComputeAt(byte[] secret, DateTimeOffset at, int digits = 6, HashAlgorithmName? algorithm = null) =>
        Compute(secret, StepAt(at), digits, algorithm);
}
