using System.Numerics;
using System.Numerics.Tensors;
using Deconv.Cli.Formats;

namespace Deconv.Cli.Conformance;

/// <summary>
/// An ONNX backend node test data set: the model, the tensors fed to its graph inputs (<c>input_*.pb</c>)
/// and the expected outputs (<c>output_*.pb</c>).
/// </summary>
internal sealed record OnnxNodeTest(string Id, string Source, OnnxModel Model, IReadOnlyList<OnnxTensor> Inputs, IReadOnlyList<OnnxTensor> Outputs)
{
    /// <summary>Reads <c>model.onnx</c> and one <c>test_data_set_*</c> folder.</summary>
    public static OnnxNodeTest Load(string id, string modelPath, string dataSetFolder)
    {
        var model = OnnxModel.Read(modelPath);
        return new OnnxNodeTest(id, dataSetFolder, model, ReadNumbered(dataSetFolder, "input_"), ReadNumbered(dataSetFolder, "output_"));
    }

    private static List<OnnxTensor> ReadNumbered(string folder, string prefix)
    {
        var files = Directory.GetFiles(folder, prefix + "*.pb")
            .Select(path => (Path: path, Index: int.TryParse(Path.GetFileNameWithoutExtension(path)[prefix.Length..], out var i) ? i : -1))
            .OrderBy(f => f.Index)
            .ToList();
        for (var i = 0; i < files.Count; i++)
        {
            if (files[i].Index != i)
            {
                throw new InvalidDataException($"{folder}: {prefix}*.pb files must be numbered 0, 1, 2, ... without gaps, but found {Path.GetFileName(files[i].Path)}");
            }
        }

        return [.. files.Select(f => TensorProto.Read(f.Path))];
    }
}

/// <summary>Runs ONNX node tests and ONNX Runtime cases through <see cref="Onnx.ConvTranspose{T}"/> / <see cref="Onnx.Conv{T}"/>.</summary>
internal static class OnnxRunner
{
    private static readonly HashSet<string> KnownAttributes = ["auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides"];

    public static CaseResult Run(OrtCase c, string source) =>
        Run(c.Id, source, c.OpType, c.Attributes, c.X.Shape, c.X.Data, c.W.Shape, c.W.Data, c.B?.Shape, c.B?.Data,
            c.Y.Shape, [.. c.Y.Data.Select(v => (double)v)], Tolerance.OnnxRuntime);

    public static CaseResult Run(OnnxNodeTest test)
    {
        var model = test.Model;
        if (model.Nodes.Count != 1)
        {
            throw new InvalidDataException($"{test.Source}: the graph has {model.Nodes.Count} nodes; only single-node Conv/ConvTranspose graphs are supported");
        }

        var node = model.Nodes[0];
        if (node.OpType is not ("ConvTranspose" or "Conv") || node.Domain is not ("" or "ai.onnx"))
        {
            throw new InvalidDataException($"{test.Source}: node op_type '{node.OpType}' (domain '{node.Domain}') is not supported; only ConvTranspose and Conv");
        }

        var values = model.Initializers.ToDictionary(t => t.Name, t => t);
        var fed = model.FedInputs;
        if (fed.Count != test.Inputs.Count)
        {
            throw new InvalidDataException($"{test.Source}: the graph has {fed.Count} inputs without initializer ({string.Join(", ", fed)}) but the data set has {test.Inputs.Count} input files");
        }

        for (var i = 0; i < fed.Count; i++)
        {
            values[fed[i]] = test.Inputs[i];
        }

        if (node.Inputs.Length is < 2 or > 3 || node.Outputs.Length != 1 || test.Outputs.Count != 1)
        {
            throw new InvalidDataException($"{test.Source}: {node.OpType} must have inputs X, W and optional B, one output, and one output file; got inputs [{string.Join(", ", node.Inputs)}], outputs [{string.Join(", ", node.Outputs)}], {test.Outputs.Count} output files");
        }

        OnnxTensor Value(string name) => values.TryGetValue(name, out var t) ? t
            : throw new InvalidDataException($"{test.Source}: node input '{name}' is neither an initializer nor a graph input");
        var x = Value(node.Inputs[0]);
        var w = Value(node.Inputs[1]);
        var b = node.Inputs.Length == 3 && node.Inputs[2].Length > 0 ? Value(node.Inputs[2]) : null;
        var y = test.Outputs[0];
        if (w.DataType != x.DataType || b is not null && b.DataType != x.DataType)
        {
            throw new InvalidDataException($"{test.Source}: X is {x.TypeName} but W is {w.TypeName}{(b is null ? "" : $" and B is {b.TypeName}")}; all must have one type");
        }

        var attributes = Attributes(node, test.Source);
        var expected = y.ToDoubles();
        return x.DataType == TensorProto.Float
            ? Run(test.Id, test.Source, node.OpType, attributes, x.Shape, x.Floats!, w.Shape, w.Floats!, b?.Shape, b?.Floats, y.Shape, expected, Tolerance.OnnxNodeTest)
            : Run(test.Id, test.Source, node.OpType, attributes, x.Shape, x.Doubles!, w.Shape, w.Doubles!, b?.Shape, b?.Doubles, y.Shape, expected, Tolerance.OnnxNodeTest);
    }

    /// <summary>The node's attributes under ONNX's names; an unknown one or one of the wrong type is an error in the file.</summary>
    internal static OnnxConvAttributes Attributes(OnnxNode node, string source)
    {
        foreach (var name in node.Attributes.Keys.Where(n => !KnownAttributes.Contains(n)))
        {
            throw new InvalidDataException($"{source}: {node.OpType} attribute '{name}' is not supported (known: {string.Join(", ", KnownAttributes)})");
        }

        OnnxAttribute? Get(string name, OnnxAttributeType type) => !node.Attributes.TryGetValue(name, out var a) ? null
            : a.Type == type ? a
            : throw new InvalidDataException($"{source}: attribute '{name}' has type {a.Type} but must be {type}");
        return new OnnxConvAttributes
        {
            AutoPad = Get("auto_pad", OnnxAttributeType.String)?.String ?? "NOTSET",
            Dilations = Get("dilations", OnnxAttributeType.Ints)?.Ints,
            Group = Get("group", OnnxAttributeType.Int)?.Int ?? 1,
            KernelShape = Get("kernel_shape", OnnxAttributeType.Ints)?.Ints,
            OutputPadding = Get("output_padding", OnnxAttributeType.Ints)?.Ints,
            OutputShape = Get("output_shape", OnnxAttributeType.Ints)?.Ints,
            Pads = Get("pads", OnnxAttributeType.Ints)?.Ints,
            Strides = Get("strides", OnnxAttributeType.Ints)?.Ints,
        };
    }

    private static CaseResult Run<T>(string id, string source, string opType, OnnxConvAttributes attributes, long[] xShape, T[] x, long[] wShape, T[] w,
        long[]? bShape, T[]? b, long[] yShape, double[] expected, Tolerance tolerance)
        where T : IFloatingPointIeee754<T>, IConvertible
    {
        return CaseEvaluation.Evaluate(id, source, () =>
        {
            var bias = b?.ToTensor(bShape!);
            // Shapes first: a result that cannot match the expected one is not computed (a corrupt file may ask for a huge output).
            var shape = opType == "ConvTranspose"
                ? Onnx.ConvTransposeGeometry(xShape, wShape, attributes, bias is null ? -1 : (int)bias.FlattenedLength).OutputShape
                : Onnx.ConvGeometry(xShape, wShape, attributes, bias is null ? -1 : (int)bias.FlattenedLength).InputShape;
            if (!shape.SequenceEqual(yShape))
            {
                return (shape, []);
            }

            var xt = x.ToTensor(xShape);
            var wt = w.ToTensor(wShape);
            Tensor<T> y = opType == "ConvTranspose" ? Onnx.ConvTranspose(xt, wt, bias, attributes) : Onnx.Conv(xt, wt, bias, attributes);
            return CaseEvaluation.Result(y);
        }, yShape, () => expected, tolerance);
    }
}
