using NetArchTest.Rules;

namespace Portal.Web.Tests;

/// <summary>
/// The dependency rule of docs/architecture.md, checked on the compiled portal (signatures and method bodies):
/// the features use the core and never each other; nothing in the core uses a feature.
/// </summary>
public class ArchitectureTests
{
    private const string Features = "Portal.Web.Features";

    /// <summary>The core areas, bottom to top in what they mostly use; none of them may use a feature.</summary>
    public static TheoryData<string> CoreAreas => new() { "Portal.Web.Platform", "Portal.Web.Agents", "Portal.Web.Tenancy", "Portal.Web.Verification" };

    public static TheoryData<string> FeatureAreas
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var feature in FeatureNamespaces())
            {
                data.Add(feature);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(CoreAreas))]
    public void TheCore_NeverUsesAFeature(string area)
    {
        var result = Types.InAssembly(typeof(PortalWebSetup).Assembly)
            .That().ResideInNamespace(area)
            .ShouldNot().HaveDependencyOnAny(Features)
            .GetResult();

        Assert.True(result.SelectedTypesForTesting.Any(), $"No type found in {area}: the rule would pass on nothing.");
        Assert.True(result.IsSuccessful, $"{area} uses a feature: {Failing(result)}");
    }

    [Theory]
    [MemberData(nameof(FeatureAreas))]
    public void AFeature_NeverUsesAnotherFeature(string feature)
    {
        var others = FeatureNamespaces().Where(f => f != feature).ToArray();
        var result = Types.InAssembly(typeof(PortalWebSetup).Assembly)
            .That().ResideInNamespace(feature)
            .ShouldNot().HaveDependencyOnAny(others)
            .GetResult();

        Assert.True(result.SelectedTypesForTesting.Any());
        Assert.True(result.IsSuccessful, $"{feature} uses another feature: {Failing(result)}");
    }

    /// <summary>The check sees dependencies inside method bodies, so a passing rule means something.</summary>
    [Fact]
    public void TheCheck_SeesADependencyThatExists()
    {
        var result = Types.InAssembly(typeof(PortalWebSetup).Assembly)
            .That().ResideInNamespace("Portal.Web.Features.Console")
            .ShouldNot().HaveDependencyOnAny("Portal.Web.Verification")
            .GetResult();

        Assert.False(result.IsSuccessful);
    }

    /// <summary>Every type of the portal lives in one of the areas: no new catch-all folder.</summary>
    [Fact]
    public void EveryType_LivesInAnArea()
    {
        string[] areas = ["Portal.Web.Platform", "Portal.Web.Agents", "Portal.Web.Tenancy", "Portal.Web.Verification", Features];
        var outside = typeof(PortalWebSetup).Assembly.GetTypes()
            .Where(t => !t.IsNested && t.Namespace is not null && t.Namespace.StartsWith("Portal.Web", StringComparison.Ordinal))
            .Where(t => t.Namespace != "Portal.Web" || (t.Name != nameof(PortalWebSetup) && t.Name != "Program"))
            .Where(t => !areas.Any(a => t.Namespace == a || t.Namespace!.StartsWith(a + ".", StringComparison.Ordinal)))
            .Select(t => t.FullName)
            .ToList();

        Assert.Empty(outside);
    }

    private static string[] FeatureNamespaces() =>
        [.. typeof(PortalWebSetup).Assembly.GetTypes()
            .Select(t => t.Namespace)
            .OfType<string>()
            .Where(n => n.StartsWith(Features + ".", StringComparison.Ordinal))
            .Distinct()
            .Order(StringComparer.Ordinal)];

    private static string Failing(TestResult result) =>
        string.Join(", ", result.FailingTypes?.Select(t => t.FullName + (t.Explanation is { Length: > 0 } why ? $" ({why})" : "")) ?? []);
}
