using Portal.Web.Features.Actions;

namespace Portal.Web.Tests;

/// <summary>How a one-time secret is read to a caller: blocks of four, every character spelt with its case.</summary>
public sealed class SecretReadingTests
{
    [Theory]
    [InlineData("", new string[0])]
    [InlineData("abc", new[] { "abc" })]
    [InlineData("abcd", new[] { "abcd" })]
    [InlineData("abcdefghij", new[] { "abcd", "efgh", "ij" })]
    public void Groups_AreBlocksOfFour_TheLastShorter(string secret, string[] expected) =>
        Assert.Equal(expected, SecretReading.Groups(secret));

    [Theory]
    [InlineData('B', "capital Bravo")]
    [InlineData('b', "small bravo")]
    [InlineData('O', "capital Oscar")]
    [InlineData('0', "zero")]
    [InlineData('l', "small lima")]
    [InlineData('I', "capital India")]
    [InlineData('1', "one")]
    [InlineData('X', "capital X-ray")]
    [InlineData('-', "dash")]
    [InlineData('~', "the symbol ~")]
    public void Spoken_SaysTheCaseOfEveryLetter_AndTellsLookAlikesApart(char c, string expected) =>
        Assert.Equal(expected, SecretReading.Spoken(c));

    [Fact]
    public void Spoken_EveryLetterAndDigit_HasItsOwnWords()
    {
        var all = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".Select(SecretReading.Spoken).ToList();
        Assert.Equal(all.Count, all.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [InlineData("https://demo.okta.example/reset/abc", true)]
    [InlineData("HTTP://x.example/", true)]
    [InlineData("Ab3k-9QzT", false)]
    public void Links_AreCopiedNotReadAloud(string secret, bool isLink) =>
        Assert.Equal(isLink, new SecretView("Secret", secret, null).IsLink);

    [Fact]
    public void SecretView_NeverPrintsItsValue() =>
        Assert.DoesNotContain("Ab3k-9QzT", new SecretView("Temporary password", "Ab3k-9QzT", null).ToString(), StringComparison.Ordinal);
}
