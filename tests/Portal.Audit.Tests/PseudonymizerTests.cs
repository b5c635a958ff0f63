using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Portal.Audit.Tests;

public sealed class PseudonymizerTests
{
    private static readonly byte[] Secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    private static HmacCallerPseudonymizer Create(byte[]? secret = null) =>
        new(Options.Create(new AuditOptions { PseudonymisationKey = Convert.ToBase64String(secret ?? Secret) }));

    [Fact]
    public void HashCallerId_SameInput_IsStableAcrossInstances()
    {
        var first = Create().HashCallerId("acme", "00u1abcd");
        var second = Create().HashCallerId("acme", "00u1abcd");

        Assert.Equal(first, second);
        Assert.Matches("^[0-9a-f]{64}$", first);
    }

    [Fact]
    public void HashCallerId_OtherTenant_Differs()
    {
        var pseudonyms = Create();

        Assert.NotEqual(pseudonyms.HashCallerId("acme", "00u1abcd"), pseudonyms.HashCallerId("globex", "00u1abcd"));
    }

    [Fact]
    public void HashCallerId_OtherSecret_Differs()
    {
        var other = Secret.Select(b => (byte)(b ^ 0xFF)).ToArray();

        Assert.NotEqual(Create().HashCallerId("acme", "00u1abcd"), Create(other).HashCallerId("acme", "00u1abcd"));
    }

    [Fact]
    public void HashCallerId_IsNotAPlainHashAndHidesTheInput()
    {
        const string CallerId = "00u1abcd";
        var hash = Create().HashCallerId("acme", CallerId);

        Assert.NotEqual(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CallerId))), hash);
        Assert.NotEqual(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("acme" + CallerId))), hash);
        Assert.DoesNotContain(CallerId, hash, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void HashCallerId_MatchesTheDocumentedDerivation()
    {
        // HKDF-SHA256(secret, info "portal/pseudonym/{tenant}") then HMAC-SHA256 of the id: other tools (an
        // export reader, a migration) must be able to compute the same pseudonym.
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Secret, 32, [], Encoding.UTF8.GetBytes("portal/pseudonym/acme"));
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes("00u1abcd")));

        Assert.Equal(expected, Create().HashCallerId("acme", "00u1abcd"));
    }

    [Fact]
    public void HashValue_DiffersByPurposeAndFromCallerPseudonym()
    {
        var pseudonyms = Create();

        var totp = pseudonyms.HashValue("acme", "totp", "123456");
        var other = pseudonyms.HashValue("acme", "other", "123456");
        var callerId = pseudonyms.HashCallerId("acme", "123456");

        Assert.Equal(totp, Create().HashValue("acme", "totp", "123456"));
        Assert.NotEqual(totp, other);
        Assert.NotEqual(totp, callerId);
        Assert.NotEqual(totp, pseudonyms.HashValue("globex", "totp", "123456"));
    }

    [Fact]
    public void HashCallerId_WithoutUsableKey_Throws()
    {
        var pseudonyms = new HmacCallerPseudonymizer(Options.Create(new AuditOptions { PseudonymisationKey = Convert.ToBase64String(new byte[16]) }));

        var ex = Assert.Throws<InvalidOperationException>(() => pseudonyms.HashCallerId("acme", "x"));
        Assert.Equal("Portal:Audit:PseudonymisationKey must be base64 of at least 32 bytes.", ex.Message);
        var blank = new HmacCallerPseudonymizer(Options.Create(new AuditOptions { PseudonymisationKey = "   " }));
        Assert.Throws<InvalidOperationException>(() => blank.HashValue("acme", "totp-use", "x"));
    }

    [Fact]
    public void HashValue_MatchesTheDocumentedDerivation()
    {
        // HKDF-SHA256(secret, info "portal/{purpose}/{tenant}") then HMAC-SHA256 of the value.
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Secret, 32, [], Encoding.UTF8.GetBytes("portal/totp-use/acme"));
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes("00u1abcd:123456")));

        Assert.Equal(expected, Create().HashValue("acme", "totp-use", "00u1abcd:123456"));
    }

    [Fact]
    public void MissingArguments_Refused()
    {
        var pseudonyms = Create();
        Assert.Equal("tenantId", Assert.Throws<ArgumentException>(() => pseudonyms.HashCallerId("", "x")).ParamName);
        Assert.Equal("callerId", Assert.Throws<ArgumentNullException>(() => pseudonyms.HashCallerId("acme", null!)).ParamName);
        Assert.Equal("tenantId", Assert.Throws<ArgumentException>(() => pseudonyms.HashValue("", "p", "x")).ParamName);
        Assert.Equal("purpose", Assert.Throws<ArgumentException>(() => pseudonyms.HashValue("acme", "", "x")).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentNullException>(() => pseudonyms.HashValue("acme", "p", null!)).ParamName);
    }
}
