namespace Deconv.Layers;

/// <summary>Updates parameters in place from their gradients; <see cref="Step"/> once per <c>Backward</c>.</summary>
public abstract class Optimizer
{
    /// <summary>Optimizes <paramref name="parameters"/> with learning rate <paramref name="learningRate"/> (positive, finite).</summary>
    protected Optimizer(IEnumerable<Parameter> parameters, float learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = [.. parameters];
        if (!(learningRate > 0) || !float.IsFinite(learningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learning rate must be positive and finite");
        }

        LearningRate = learningRate;
    }

    /// <summary>The parameters this optimizer updates.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Step size.</summary>
    public float LearningRate { get; }

    /// <summary>Applies one update to every parameter from its current gradient.</summary>
    public abstract void Step();

    /// <summary>Throws unless <c>0 &lt;= value &lt; 1</c>.</summary>
    protected static float Fraction(float value, string name) => value is >= 0 and < 1
        ? value
        : throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1)");
}

/// <summary>Stochastic gradient descent with optional momentum (PyTorch's form: <c>v = momentum*v + g; p -= lr*v</c>).</summary>
public sealed class Sgd : Optimizer
{
    private readonly float[][] _velocity;

    /// <summary>Plain SGD (<paramref name="momentum"/> 0) or SGD with momentum in <c>[0, 1)</c>.</summary>
    public Sgd(IEnumerable<Parameter> parameters, float learningRate, float momentum = 0)
        : base(parameters, learningRate)
    {
        Momentum = Fraction(momentum, nameof(momentum));
        _velocity = [.. Parameters.Select(p => new float[p.Value.Length])];
    }

    /// <summary>Momentum factor.</summary>
    public float Momentum { get; }

    /// <inheritdoc />
    public override void Step()
    {
        for (var i = 0; i < Parameters.Count; i++)
        {
            var (value, gradient, velocity) = (Parameters[i].Value, Parameters[i].Gradient, _velocity[i]);
            for (var j = 0; j < value.Length; j++)
            {
                velocity[j] = Momentum * velocity[j] + gradient[j];
                value[j] -= LearningRate * velocity[j];
            }
        }
    }
}

/// <summary>
/// Adam (Kingma and Ba), as PyTorch's <c>torch.optim.Adam</c> without weight decay:
/// <c>m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)</c>.
/// </summary>
public sealed class Adam : Optimizer
{
    private readonly float[][] _first;
    private readonly float[][] _second;
    private int _steps;

    /// <summary>Adam with the usual defaults (<c>lr 1e-3, betas (0.9, 0.999), eps 1e-8</c>).</summary>
    public Adam(IEnumerable<Parameter> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
        : base(parameters, learningRate)
    {
        Beta1 = Fraction(beta1, nameof(beta1));
        Beta2 = Fraction(beta2, nameof(beta2));
        Epsilon = epsilon > 0 && float.IsFinite(epsilon) ? epsilon : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive and finite");
        _first = [.. Parameters.Select(p => new float[p.Value.Length])];
        _second = [.. Parameters.Select(p => new float[p.Value.Length])];
    }

    /// <summary>Decay of the first-moment estimate.</summary>
    public float Beta1 { get; }

    /// <summary>Decay of the second-moment estimate.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the root of the second moment.</summary>
    public float Epsilon { get; }

    /// <inheritdoc />
    public override void Step()
    {
        _steps++;
        var correction1 = 1 - Math.Pow(Beta1, _steps);
        var correction2 = 1 - Math.Pow(Beta2, _steps);
        for (var i = 0; i < Parameters.Count; i++)
        {
            var (value, gradient, m, v) = (Parameters[i].Value, Parameters[i].Gradient, _first[i], _second[i]);
            for (var j = 0; j < value.Length; j++)
            {
                var g = gradient[j];
                m[j] = Beta1 * m[j] + (1 - Beta1) * g;
                v[j] = Beta2 * v[j] + (1 - Beta2) * g * g;
                value[j] -= (float)(LearningRate * (m[j] / correction1) / (Math.Sqrt(v[j] / correction2) + Epsilon));
            }
        }
    }
}
