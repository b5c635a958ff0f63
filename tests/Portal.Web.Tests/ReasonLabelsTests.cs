using Portal.Web.Features.Audit;

namespace Portal.Web.Tests;

public sealed class ReasonLabelsTests
{
    [Theory]
    [InlineData("approval_required", "Privileged account: waiting for a second agent's approval")]
    [InlineData("E0000007", "Okta: no such user or factor")]
    [InlineData("push_rejected", "The caller rejected the push")]
    public void Describe_KnownCode_InWords(string code, string words)
    {
        Assert.Equal(words, ReasonLabels.Describe(code));
        Assert.True(ReasonLabels.Known(code));
    }

    [Theory]
    [InlineData("sessions_revoke", "Sign out everywhere")]
    [InlineData("password_reset before_verification", "Reset password; asked for at look-up, before verifying")]
    [InlineData("mfa_reset roles_unknown groups_unknown", "Reset MFA factors; the caller's admin roles could not be read; the caller's groups could not be read")]
    public void Describe_AnApprovalsActionAndWhatIsKnownOfIt_InWords(string code, string words)
    {
        Assert.Equal(words, ReasonLabels.Describe(code));
        Assert.True(ReasonLabels.Known(code));
    }

    [Theory]
    [InlineData("approved prior:0123456789abcdef0123456789abcdef", "Approved: the caller is verified; second method, following verification 0123456789abcdef0123456789abcdef")]
    [InlineData("prior:0123456789abcdef0123456789abcdef", "Second method, following verification 0123456789abcdef0123456789abcdef")]
    public void Describe_ASecondMethodsVerification_NamesTheOneItFollows(string code, string words)
    {
        Assert.Equal(words, ReasonLabels.Describe(code));
        Assert.True(ReasonLabels.Known(code));
    }

    [Theory]
    [InlineData("password_reset something_new")]
    [InlineData("before_verification password_reset")]
    [InlineData("removed: e-mail")]
    public void Describe_CompoundWithAPartWithoutWords_AsItIs(string code)
    {
        Assert.Equal(code, ReasonLabels.Describe(code));
        Assert.False(ReasonLabels.Known(code));
    }

    [Fact]
    public void Describe_UnknownCode_AsItIs_NoReason_Empty()
    {
        Assert.Equal("some_new_code", ReasonLabels.Describe("some_new_code"));
        Assert.False(ReasonLabels.Known("some_new_code"));
        Assert.Equal("", ReasonLabels.Describe(null));
        Assert.False(ReasonLabels.Known(null));
    }

    /// <summary>Every reason the portal writes into its audit from its own code has words (a new code must be given some).</summary>
    [Fact]
    public void EveryReasonCodeTheActionsAndVerificationsWrite_HasWords()
    {
        var repository = new DirectoryInfo(AppContext.BaseDirectory);
        while (repository is not null && !File.Exists(Path.Combine(repository.FullName, "Portal.sln")))
        {
            repository = repository.Parent;
        }

        Assert.NotNull(repository);
        var root = Path.Combine(repository.FullName, "src", "Portal.Web");
        var codes = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f))
            .Where(f => !f.StartsWith("obj", StringComparison.Ordinal) && !f.StartsWith("bin", StringComparison.Ordinal))
            .Where(f => f.Contains("Actions", StringComparison.Ordinal) || f.Contains("Verification", StringComparison.Ordinal))
            .Select(f => Path.Combine(root, f))
            .SelectMany(f => System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(f), "Reason = \"([a-z_]+)\"").Select(m => m.Groups[1].Value))
            .Distinct()
            .ToList();

        Assert.NotEmpty(codes);
        Assert.All(codes, c => Assert.True(ReasonLabels.Known(c), $"The audit reason '{c}' has no words in ReasonLabels."));
    }
}
