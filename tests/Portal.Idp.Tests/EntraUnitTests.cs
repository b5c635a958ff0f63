using Microsoft.Graph.Models;
using Portal.Idp.Entra;

namespace Portal.Idp.Tests;

public sealed class EntraUnitTests
{
    [Theory]
    [InlineData("alice@example.com", "'alice@example.com'")]
    [InlineData("o'brien@example.com", "'o''brien@example.com'")]
    [InlineData("x' or 1 eq 1", "'x'' or 1 eq 1'")]
    [InlineData("''", "''''''")]
    [InlineData("", "''")]
    public void Quote_Value_DoublesEverySingleQuote(string value, string expected)
    {
        Assert.Equal(expected, ODataFilter.Quote(value));
    }

    [Fact]
    public void UpnOrMail_HostileValue_StaysOneLiteralPerTerm()
    {
        var filter = ODataFilter.UpnOrMail("x' or userPrincipalName eq 'admin@example.com");

        Assert.Equal(
            "userPrincipalName eq 'x'' or userPrincipalName eq ''admin@example.com' or mail eq 'x'' or userPrincipalName eq ''admin@example.com'",
            filter);
    }

    [Fact]
    public void TemporaryPassword_Generate_HasEveryClassAndDiffers()
    {
        var passwords = Enumerable.Range(0, 50).Select(_ => TemporaryPassword.Generate()).ToList();

        foreach (var password in passwords)
        {
            Assert.Equal(16, password.Length);
            Assert.Contains(password, c => TemporaryPassword.Upper.Contains(c, StringComparison.Ordinal));
            Assert.Contains(password, c => TemporaryPassword.Lower.Contains(c, StringComparison.Ordinal));
            Assert.Contains(password, c => TemporaryPassword.Digits.Contains(c, StringComparison.Ordinal));
            Assert.Contains(password, c => TemporaryPassword.Symbols.Contains(c, StringComparison.Ordinal));
        }

        Assert.Equal(passwords.Count, passwords.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void ToFactors_EmailAndPasswordOnly_OffersNoStepUp()
    {
        var factors = EntraMethodRules.ToFactors([new PasswordAuthenticationMethod { Id = "p" }, new EmailAuthenticationMethod { Id = "e" }]);

        var email = Assert.Single(factors);
        Assert.Equal(FactorKind.Email, email.Kind);
        Assert.Null(email.Method);
    }

    [Fact]
    public void ToFactors_Fido2Only_OffersStepUpFirst()
    {
        var factors = EntraMethodRules.ToFactors([new Fido2AuthenticationMethod { Id = "f" }]);

        Assert.Equal(VerificationMethods.OidcStepUp, factors[0].Method);
        Assert.Equal(FactorKind.WebAuthn, factors[1].Kind);
        Assert.Null(factors[1].Method);
    }
}
