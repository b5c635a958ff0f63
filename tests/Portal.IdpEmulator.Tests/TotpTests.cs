using System.Security.Cryptography;
using System.Text;

namespace Portal.IdpEmulator.Tests;

public sealed class TotpTests
{
    // RFC 6238 Appendix B.
    [Theory]
    [InlineData(59L, "94287082", "46119246")]
    [InlineData(1111111109L, "07081804", "68084774")]
    [InlineData(1111111111L, "14050471", "67062674")]
    [InlineData(1234567890L, "89005924", "91819424")]
    [InlineData(2000000000L, "69279037", "90698825")]
    [InlineData(20000000000L, "65353130", "77737706")]
    public void ComputeAt_Rfc6238Vectors_MatchAppendixB(long unixSeconds, string sha1, string sha256)
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(unixSeconds);

        Assert.Equal(sha1, Totp.ComputeAt(Encoding.ASCII.GetBytes("12345678901234567890"), at, 8));
        Assert.Equal(sha256, Totp.ComputeAt(Encoding.ASCII.GetBytes("12345678901234567890123456789012"), at, 8, HashAlgorithmName.SHA256));
    }

    [Fact]
    public void ComputeAt_SixDigits_IsLastSixOfEightDigitCode()
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(1111111109);

        Assert.Equal("081804", Totp.ComputeAt(Encoding.ASCII.GetBytes("12345678901234567890"), at));
    }
}
